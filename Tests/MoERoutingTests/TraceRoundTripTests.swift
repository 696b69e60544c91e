import Foundation
import Testing

@testable import MoERouting

@Suite struct TraceRoundTripTests {
    @Test(arguments: ["trace.jsonl", "trace.jsonl.gz"])
    func roundTripIsIdentical(name: String) throws {
        let path = temporaryPath(name)
        let steps = sampleSteps(count: 300)
        try writeTrace(path, steps: steps)

        let trace = try TraceReader.read(path: path)
        #expect(trace.header.model == smallModel())
        #expect(trace.header.sampling == SamplingSettings(temperature: 0.7, topK: 40, seed: 42))
        #expect(trace.prompts == [TracePrompt(text: "say \"hi\"\n", tokenIndex: 0)])
        #expect(trace.count == steps.count)
        #expect(trace.report.tornLastLine == nil)
        #expect(trace.report.truncatedCompression == false)
        var mismatches = 0
        for (index, step) in steps.enumerated() where trace.step(at: index) != step {
            mismatches += 1
            if mismatches < 3 { Issue.record("token \(index) differs: \(trace.step(at: index))") }
        }
        #expect(mismatches == 0)
        // the bits, not only ==, survive (signed zeros)
        let zero = try #require(trace.probabilities(token: 1, slot: 0)?.first)
        #expect(zero.sign == .minus && zero == 0)
    }

    @Test func floatsRoundTripBitForBit() throws {
        // 20,000 random-bit floats through the writer and the fast parser.
        var random = SplitMix(state: 99)
        var steps = sampleSteps(count: 2500)
        for index in steps.indices {
            for slot in 0..<2 {
                steps[index].records[slot].probabilities = (0..<4).map { _ in
                    randomBitsFloat(&random)
                }
            }
        }
        let path = temporaryPath("bits.jsonl")
        try writeTrace(path, steps: steps)
        let trace = try TraceReader.read(path: path)
        var worst: (Float, Float)?
        for (index, step) in steps.enumerated() {
            for slot in 0..<2 {
                let read = try #require(trace.probabilities(token: index, slot: slot))
                for (a, b) in zip(step.records[slot].probabilities, read)
                where a.bitPattern != b.bitPattern {
                    worst = (a, b)
                }
            }
        }
        #expect(worst == nil, "wrote \(worst?.0 ?? 0), read \(worst?.1 ?? 0)")
    }

    @Test func optionalVectorsCanBeLeftOut() throws {
        let path = temporaryPath("topk.jsonl")
        let steps = sampleSteps(count: 10)
        try writeTrace(path, steps: steps, options: .init(probabilities: false, logits: false))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("\"probs\""))
        let trace = try TraceReader.read(path: path)
        for (index, step) in steps.enumerated() {
            var want = step
            for slot in want.records.indices {
                want.records[slot].probabilities = []
                want.records[slot].logits = []
            }
            #expect(trace.step(at: index) == want)
        }
        // readers may drop what was written
        let full = temporaryPath("full.jsonl")
        try writeTrace(full, steps: steps)
        let light = try TraceReader.read(
            path: full, options: .init(probabilities: false, logits: false))
        #expect(light.probabilities(token: 3, slot: 1) == nil)
        #expect(light.step(at: 3).records[1].experts == steps[3].records[1].experts)
    }

    @Test func stepsWithoutRoutingRoundTrip() throws {
        let path = temporaryPath("norouting.jsonl")
        var steps = sampleSteps(count: 4)
        steps[2].records = []
        try writeTrace(path, steps: steps)
        let trace = try TraceReader.read(path: path)
        #expect(trace.steps == steps)
        #expect(trace.hasRouting == [true, true, false, true])
    }

    @Test func recordsAreWrittenInSlotOrder() throws {
        let path = temporaryPath("order.jsonl")
        var steps = sampleSteps(count: 2)
        let original = steps
        steps[0].records.reverse()
        try writeTrace(path, steps: steps)
        #expect(try TraceReader.read(path: path).steps == original)
    }

    @Test(arguments: [
        "missing layer", "unknown block", "expert out of range", "duplicate expert",
        "too few weights",
    ])
    func writerRefusesStepsThatDoNotFitTheModel(damage: String) throws {
        var step = sampleSteps(count: 1)[0]
        switch damage {
        case "missing layer": step.records.removeLast()
        case "unknown block": step.records[0].layer = 0
        case "expert out of range": step.records[0].experts[0] = 4
        case "duplicate expert": step.records[1].experts = [3, 3]
        default: step.records[1].weights = [1]
        }
        let writer = try TraceWriter(
            path: temporaryPath("bad.jsonl"), header: TraceHeader(model: smallModel()))
        #expect(throws: TraceError.self) { try writer.write(step: step) }
        try writer.close()
        #expect(throws: TraceError.self) { try writer.write(prompt: "late") }
    }
}

/// The number parser's eight-digits-at-a-time path against Swift's own `Float(String)`: the
/// fraction lengths around 8 and 16, leading zeros, a non-digit inside the eight bytes, more
/// than 19 significant digits, exponents, and random floats printed shortest.
@Suite struct FloatParsingTests {
    static let texts: [String] = [
        "0.23716915", "0.053411048", "0.00012345678", "0.000000001", "0.12345678",
        "0.1234567", "0.123456789012345678", "0.12345678901234567890123", "12345678.87654321",
        "0.99999999", "1.00000000", "0.00000000", "-0.048587470", "0.1234567e-3", "7.5E+2",
        "0.30000001192092896", "3.4028235e38", "1.1754944e-38", "1e-45", "0.5",
    ]

    static func parse(_ text: String) throws -> Float {
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: ","))  // a non-digit right after, as inside an array
        return try bytes.withUnsafeBufferPointer { buffer throws -> Float in
            var parser = JSONLineParser(buffer)
            return try parser.parseFloat("a test value")
        }
    }

    @Test(arguments: texts)
    func equalsSwiftsParser(text: String) throws {
        let expected = try #require(Float(text))
        #expect(try Self.parse(text).bitPattern == expected.bitPattern, "\(text)")
    }

    /// 20,000 seeded random floats of magnitudes 1e-10 to 1e3, printed shortest by Swift.
    @Test func randomFloatsRoundTrip() throws {
        var state: UInt64 = 20_261_204
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for _ in 0..<20_000 {
            let bits =
                UInt32(truncatingIfNeeded: next()) & 0x007F_FFFF | (UInt32(97 + next() % 40) << 23)
            let value = Float(bitPattern: bits)
            let text = "\(value)"
            #expect(try Self.parse(text).bitPattern == value.bitPattern, "\(text)")
        }
    }
}
