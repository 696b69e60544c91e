import Foundation
import Testing

@testable import MoERouting

/// Scripts/fixtures/routing: a trace written by Scripts/import_hf_trace.py from a tiny random
/// transformers Qwen3-MoE, and the routing of the same tokens from an independent
/// full-sequence transformers forward pass (Scripts/fixtures/routing_hf_trace.py).
private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Scripts/fixtures/routing")

private struct Expected: Decodable {
    var tokens: Int
    var moeLayers: [Int]
    var countsPerLayer: [[Int]]
    var expertsPerLayer: [[[Int]]]
    var largestProbabilityDifference: Double
}

@Suite struct ImportedTraceTests {
    @Test func traceFromTransformersMatchesItsReference() throws {
        let path = fixtures.appendingPathComponent("hf-tiny-qwen3moe.jsonl").path
        let expected = try JSONDecoder().decode(
            Expected.self,
            from: Data(
                contentsOf: fixtures.appendingPathComponent("hf-tiny-qwen3moe.expected.json")))
        let trace = try TraceReader.read(path: path)

        #expect(trace.count == expected.tokens)
        #expect(trace.header.model.moeLayers == expected.moeLayers)
        #expect(trace.header.model.architecture == "qwen3_moe")
        #expect(trace.prompts.count == 1)
        #expect(trace.phases.filter { $0 == .prefill }.count == 9)

        // every token's chosen experts, per layer, as the reference forward chose them
        for slot in 0..<trace.layerCount {
            let recorded = (0..<trace.count).map {
                trace.experts(token: $0, slot: slot).map(Int.init)
            }
            #expect(recorded == expected.expertsPerLayer[slot], "layer slot \(slot)")
        }

        // the counter agrees with numpy's bincount of the reference
        var counter = ActivationCounter(model: trace.header.model)
        for step in trace.steps { counter.add(step) }
        #expect(counter.allCounts(.session) == expected.countsPerLayer)

        // weights are the renormalised top-k probabilities the model applied
        var worst: Float = 0
        for token in 0..<trace.count {
            for slot in 0..<trace.layerCount {
                let probabilities = try #require(trace.probabilities(token: token, slot: slot))
                let chosen = trace.experts(token: token, slot: slot).map {
                    probabilities[probabilities.startIndex + Int($0)]
                }
                let total = chosen.reduce(0, +)
                for (weight, p) in zip(trace.weights(token: token, slot: slot), chosen) {
                    worst = max(worst, abs(weight - p / total))
                }
            }
        }
        #expect(worst < 1e-6, "largest weight difference \(worst)")
        print(
            "imported trace: probabilities within \(expected.largestProbabilityDifference) of the full forward; weights within \(worst)"
        )
    }
}
