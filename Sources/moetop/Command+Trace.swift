/// `moetop trace`. TODO: not built yet because its issue is still open.
func runTrace(_ arguments: [String]) throws -> Int32 {
    throw UsageError("trace: not built yet")
}
