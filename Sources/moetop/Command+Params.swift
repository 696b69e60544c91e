/// `moetop params`. TODO: not built yet because its issue is still open.
func runParams(_ arguments: [String]) throws -> Int32 {
    throw UsageError("params: not built yet")
}
