/// `moetop info`. TODO: not built yet because its issue is still open.
func runInfo(_ arguments: [String]) throws -> Int32 {
    throw UsageError("info: not built yet")
}
