/// `moetop session`. TODO: not built yet because its issue is still open.
func runSession(_ arguments: [String]) throws -> Int32 {
    throw UsageError("session: not built yet")
}
