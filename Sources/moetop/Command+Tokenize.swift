/// `moetop tokenize`. TODO: not built yet because its issue is still open.
func runTokenize(_ arguments: [String]) throws -> Int32 {
    throw UsageError("tokenize: not built yet")
}
