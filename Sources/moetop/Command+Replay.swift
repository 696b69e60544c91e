/// `moetop replay`. TODO: not built yet because its issue is still open.
func runReplay(_ arguments: [String]) throws -> Int32 {
    throw UsageError("replay: not built yet")
}
