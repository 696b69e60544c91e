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
