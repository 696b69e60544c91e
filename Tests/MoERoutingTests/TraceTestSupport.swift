import Foundation

@testable import MoERouting

/// A small model: blocks 1 and 2 of 3 are MoE, 4 experts, top-2.
func smallModel(fingerprint: String = "0123456789abcdef") -> ModelDescription {
    ModelDescription(
        name: "small", architecture: "qwen3moe", fingerprint: fingerprint, layerCount: 3,
        moeLayers: [1, 2], expertCount: 4, expertsPerToken: 2, sharedExpertCount: 0,
        gating: .softmax, normalizesTopK: true, weightsScale: 1, totalParameters: 1000,
        activeParameters: 600, parametersPerExpert: 100, bytesPerExpert: 200,
        alwaysActiveBytes: 400)
}

/// Deterministic pseudo-random numbers (SplitMix64), so tests need no seed plumbing.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A finite float from random bits: every exponent and mantissa pattern, the hard cases of a
/// float parser included.
func randomBitsFloat(_ random: inout SplitMix) -> Float {
    while true {
        let value = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))
        if value.isFinite { return value }
    }
}

/// Token steps for `smallModel()`, with awkward values: random-bit floats, signed zeros,
/// subnormals, infinite logits, escapes and non-ASCII pieces.
func sampleSteps(count: Int, seed: UInt64 = 7) -> [TokenStep] {
    var random = SplitMix(state: seed)
    let pieces = ["def", " \"quoted\"", "tab\there", "new\nline", "\u{1}\u{1f}", "é中😀", "\\", ""]
    return (0..<count).map { index in
        let records = [1, 2].map { layer in
            let first = Int32(random.next() % 4)
            let second = (first + 1 + Int32(random.next() % 3)) % 4
            var probabilities = (0..<4).map { _ in Float.random(in: 0..<1, using: &random) }
            probabilities[0] = index % 3 == 0 ? randomBitsFloat(&random) : -0.0
            probabilities[1] = Float.leastNonzeroMagnitude * Float(index + 1)
            var logits = (0..<4).map { _ in randomBitsFloat(&random) }
            if index % 5 == 0 { logits[2] = -.infinity }
            return RoutingRecord(
                layer: layer, logits: logits, probabilities: probabilities,
                experts: [first, second],
                weights: [randomBitsFloat(&random), Float.random(in: 0...1, using: &random)])
        }
        return TokenStep(
            tokenID: Int32(random.next() % 150_000), piece: pieces[index % pieces.count],
            position: index, phase: index < count / 2 ? .prefill : .decode, records: records,
            timing: StepTiming(
                forward: Double.random(in: 0..<1, using: &random),
                sampling: Double(bitPattern: random.next() >> 2)))
    }
}

/// A fresh path in the temporary directory.
func temporaryPath(_ name: String) -> String {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("moetop-tests-\(ProcessInfo.processInfo.processIdentifier)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("\(UUID().uuidString)-\(name)").path
}

/// Writes a trace of `steps` with a prompt first.
func writeTrace(
    _ path: String, steps: [TokenStep], model: ModelDescription = smallModel(),
    options: TraceWriter.Options = .init(probabilities: true, logits: true)
) throws {
    let writer = try TraceWriter(
        path: path,
        header: TraceHeader(
            model: model, sampling: SamplingSettings(temperature: 0.7, topK: 40, seed: 42),
            created: "2026-12-03T18:00:00Z", producer: "moetop tests"),
        options: options)
    try writer.write(prompt: "say \"hi\"\n")
    for step in steps { try writer.write(step: step) }
    try writer.close()
}

/// The lines of a plain file.
func lines(of path: String) throws -> [String] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
}

func write(lines: [String], to path: String) throws {
    try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
}
