/// `moetop demo`. TODO: not built yet because its issue is still open.
func runDemo(_ arguments: [String]) throws -> Int32 {
    throw UsageError("demo: not built yet")
}
