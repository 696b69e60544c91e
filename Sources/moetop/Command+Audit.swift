/// `moetop audit`. TODO: not built yet because its issue is still open.
func runAudit(_ arguments: [String]) throws -> Int32 {
    throw UsageError("audit: not built yet")
}
