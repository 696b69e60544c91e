/// `moetop bench`. TODO: not built yet because its issue is still open.
func runBench(_ arguments: [String]) throws -> Int32 {
    throw UsageError("bench: not built yet")
}
