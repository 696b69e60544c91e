import Foundation
import MoEEngine
import MoERouting
import Testing

/// The engine against transformers on tiny random models of every supported architecture.
///
/// Each fixture holds what transformers computed (eager, float32) for the same weights the GGUF
/// file stores. For F16 and Q8_0 files the reference model's weights were replaced by their
/// dequantised values, so what is left is the engine's arithmetic: F16 weights are dotted in
/// float, Q8_0 weights in integers against activations quantised to int8 per 32 values.
@Suite("Architectures against transformers")
struct ArchitectureFixtureTests {
    /// Tolerances per file type.
    struct Tolerance {
        /// Largest allowed |logit difference| at any prompt position.
        var logits: Float
        /// Largest allowed |router probability difference|.
        var probabilities: Float
        /// Zero: the chosen experts must match in rank order. Otherwise the chosen set may
        /// differ only where the reference's gap between the k-th and the (k+1)-th probability is
        /// below this (a quantisation-sized tie), and the order within the set is free.
        var fragileMargin: Float
    }

    static let tolerances: [String: Tolerance] = [
        "f32": Tolerance(logits: 1e-4, probabilities: 1e-5, fragileMargin: 0),
        "f16": Tolerance(logits: 1e-4, probabilities: 1e-5, fragileMargin: 0),
        // Q8_0 matrix-vector products quantise the activations to int8 per 32 values (as ggml
        // does); through a few random layers that moves logits by up to ~2 % of their range.
        "q8_0": Tolerance(logits: 0.5, probabilities: 0.1, fragileMargin: 0.2),
    ]

    /// Every architecture in three types, and a qwen3moe whose block 1 is a dense FFN.
    static let cases: [(String, String)] =
        EngineFixture.names.flatMap { name in ["f32", "f16", "q8_0"].map { (name, $0) } }
        + [("qwen3moe-dense", "f32")]

    @Test("logits, routing and greedy tokens match transformers", arguments: cases)
    func matchesTransformers(name: String, type: String) throws {
        let (fixture, url) = try EngineFixture.load(name, type: type)
        let tolerance = Self.tolerances[type]!
        let model = try Model(url: url)
        #expect(model.hyperparameters.architecture == fixture.architecture)
        #expect(model.description.totalParameters == fixture.totalParameters)
        #expect(model.description.activeParameters == fixture.activeParameters)
        #expect(model.moeLayers == fixture.routing.map(\.layer))
        let vocabulary = fixture.vocabSize

        // batched prefill: logits at every prompt position, routing of every MoE layer
        let batched = try InferenceSession(model: model, threads: 2)
        let prompt = try batched.evaluate(fixture.prompt, logits: .all, captureRouting: true)
        var comparison = RoutingComparison(fixture: fixture, tolerance: tolerance)
        comparison.compare(prompt.routing, from: 0)
        // a tolerated (quantisation-sized) expert flip changes what a position computes, so
        // logits are compared where the routing up to that position matched
        let firstPrefillFlip = comparison.firstFlippedPosition ?? Int.max
        var prefillDifference: Float = 0
        var comparedPositions = 0
        for (position, expected) in fixture.logits.enumerated() where position < firstPrefillFlip {
            comparedPositions += 1
            let row = prompt.logits[(position * vocabulary)..<((position + 1) * vocabulary)]
            prefillDifference = max(prefillDifference, maximumDifference(row, expected))
        }

        // decode path: the prompt one token at a time, then the reference continuation
        // (teacher-forced, so positions stay aligned even where a token differs)
        let stepwise = try InferenceSession(model: model, threads: 2)
        var decodeDifference: Float = 0
        var greedyMismatches: [String] = []
        let sequence = fixture.prompt + fixture.continuation
        var stepwiseComparison = RoutingComparison(fixture: fixture, tolerance: tolerance)
        for (position, token) in sequence.enumerated() {
            let step = try stepwise.evaluate([token], logits: .last, captureRouting: true)
            stepwiseComparison.compare(step.routing, from: position)
            if position < fixture.logits.count && stepwiseComparison.firstFlippedPosition == nil {
                decodeDifference = max(
                    decodeDifference, maximumDifference(step.logits, fixture.logits[position]))
            }
            let next = position + 1 - fixture.prompt.count
            if next >= 0 && next < fixture.continuation.count {
                let expected = Int(fixture.continuation[next])
                let chosen = step.logits.indices.max(by: { step.logits[$0] < step.logits[$1] })!
                let gap = step.logits[chosen] - step.logits[expected]
                if chosen != expected && gap > tolerance.logits {
                    greedyMismatches.append("step \(next): \(chosen) vs \(expected) (gap \(gap))")
                }
            }
        }

        print(
            "\(name)-\(type): max |logit diff| prefill \(prefillDifference) decode "
                + "\(decodeDifference); max |prob diff| \(comparison.probabilityDifference), "
                + "\(stepwiseComparison.probabilityDifference); top-k flips beyond the margin "
                + "\(comparison.flips.count + stepwiseComparison.flips.count), within it "
                + "\(comparison.fragileFlips) + \(stepwiseComparison.fragileFlips); "
                + "greedy mismatches \(greedyMismatches.count); logits compared at "
                + "\(comparedPositions) of \(fixture.logits.count) positions")
        // a tolerated flip early in the prompt would leave the logits unchecked
        let required =
            tolerance.fragileMargin == 0 ? fixture.logits.count : fixture.logits.count / 2
        #expect(comparedPositions >= required, "logits compared at \(comparedPositions) positions")
        #expect(prefillDifference <= tolerance.logits)
        #expect(decodeDifference <= tolerance.logits)
        for routing in [comparison, stepwiseComparison] {
            #expect(routing.probabilityDifference <= tolerance.probabilities)
            #expect(routing.flips.isEmpty, "top-k differs: \(routing.flips.prefix(5))")
        }
        #expect(greedyMismatches.isEmpty, "greedy differs: \(greedyMismatches.prefix(5))")
    }
}

/// Compares captured routing with the fixture's, position by position.
struct RoutingComparison {
    let fixture: EngineFixture
    let tolerance: ArchitectureFixtureTests.Tolerance
    var probabilityDifference: Float = 0
    var flips: [String] = []
    var fragileFlips = 0
    /// The first position where a tolerated flip happened.
    var firstFlippedPosition: Int?

    init(fixture: EngineFixture, tolerance: ArchitectureFixtureTests.Tolerance) {
        self.fixture = fixture
        self.tolerance = tolerance
    }

    /// `records[t]` is the routing of position `first + t`, one record per MoE layer.
    mutating func compare(_ records: [[RoutingRecord]], from first: Int) {
        for (offset, layers) in records.enumerated() {
            let position = first + offset
            #expect(layers.count == fixture.routing.count)
            for (record, expected) in zip(layers, fixture.routing) {
                #expect(record.layer == expected.layer)
                probabilityDifference = max(
                    probabilityDifference,
                    maximumDifference(record.probabilities, expected.probabilities[position]))
                let same =
                    tolerance.fragileMargin == 0
                    ? record.experts == expected.experts[position]
                    : Set(record.experts) == Set(expected.experts[position])
                guard !same else { continue }
                let sorted = expected.probabilities[position].sorted(by: >)
                let k = fixture.expertsPerToken
                let margin = sorted[k - 1] - sorted[k]
                if margin < tolerance.fragileMargin {
                    fragileFlips += 1
                    firstFlippedPosition = min(firstFlippedPosition ?? position, position)
                } else {
                    flips.append(
                        "layer \(expected.layer) position \(position): \(record.experts) vs "
                            + "\(expected.experts[position]) (margin \(margin))")
                }
            }
        }
    }
}
