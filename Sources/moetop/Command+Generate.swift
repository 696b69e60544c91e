/// `moetop generate`. TODO: not built yet because its issue is still open.
func runGenerate(_ arguments: [String]) throws -> Int32 {
    throw UsageError("generate: not built yet")
}
