/// `moetop synth`. TODO: not built yet because its issue is still open.
func runSynth(_ arguments: [String]) throws -> Int32 {
    throw UsageError("synth: not built yet")
}
