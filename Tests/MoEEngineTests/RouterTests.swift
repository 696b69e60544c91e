import Foundation
import MoERouting
import Testing

@testable import MoEEngine

/// The routing hook against values worked out by hand from the definitions (reference §3.0).
@Suite("Routing hook")
struct RouterTests {
    /// Routes one token and returns (probabilities, experts, weights, captured records).
    static func route(_ logits: [Float], k: Int, policy: RoutingPolicy, capture: Bool = true)
        -> ([Float], [Int32], [Float], [RoutingRecord])
    {
        let router = Router(policy: policy, expertCount: logits.count, expertsPerToken: k)
        var probabilities = [Float](repeating: 0, count: logits.count)
        var experts = [Int32](repeating: -1, count: k)
        var weights = [Float](repeating: 0, count: k)
        let captured = capture ? RoutingCapture(tokens: 1) : nil
        router.route(
            layer: 3, logits: logits, probabilities: &probabilities, experts: &experts,
            weights: &weights, capture: captured)
        return (probabilities, experts, weights, captured?.records[0] ?? [])
    }

    static let logits: [Float] = [1.0, 3.0, -2.0, 2.0, 0.5]

    /// softmax of `logits`, in double.
    static var softmax: [Double] {
        let exps = logits.map { exp(Double($0)) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }

    @Test("softmax, top-k, renormalised (qwen3moe, Mixtral, Granite)")
    func renormalised() {
        let (probabilities, experts, weights, records) = Self.route(
            Self.logits, k: 2, policy: RoutingPolicy(gating: .softmax, normalizesTopK: true))
        #expect(maximumDifference(probabilities, Self.softmax.map(Float.init)) < 1e-6)
        #expect(experts == [1, 3])
        // renormalised weights are the softmax of the two chosen logits: 1 / (1 + e^-1)
        let first = Float(1 / (1 + exp(-1.0)))
        #expect(maximumDifference(weights, [first, 1 - first]) < 1e-6)
        #expect(
            records == [
                RoutingRecord(
                    layer: 3, logits: Self.logits, probabilities: probabilities, experts: [1, 3],
                    weights: weights)
            ])
    }

    @Test("softmax, top-k, not renormalised (qwen2moe, OLMoE)")
    func notRenormalised() {
        let (_, experts, weights, _) = Self.route(
            Self.logits, k: 3, policy: RoutingPolicy(gating: .softmax, normalizesTopK: false))
        #expect(experts == [1, 3, 0])
        #expect(maximumDifference(weights, [1, 3, 0].map { Float(Self.softmax[$0]) }) < 1e-6)
    }

    @Test("sigmoid gating with a routed scale")
    func sigmoidScaled() {
        let (probabilities, experts, weights, _) = Self.route(
            Self.logits, k: 2,
            policy: RoutingPolicy(gating: .sigmoid, normalizesTopK: true, weightsScale: 2.5))
        let sigmoid = Self.logits.map { 1 / (1 + exp(-$0)) }
        #expect(maximumDifference(probabilities, sigmoid) < 1e-6)
        #expect(experts == [1, 3])
        let sum = sigmoid[1] + sigmoid[3]
        #expect(
            maximumDifference(weights, [2.5 * sigmoid[1] / sum, 2.5 * sigmoid[3] / sum]) < 1e-6)
    }

    @Test("ties go to the lower expert id; k = all experts keeps them all")
    func ties() {
        let (_, experts, _, _) = Self.route(
            [0.5, 2, 2, 0.5, 2], k: 2, policy: RoutingPolicy(gating: .softmax, normalizesTopK: true)
        )
        #expect(experts == [1, 2])
        let (_, all, weights, _) = Self.route(
            [0.1, 0.2, 0.3], k: 3, policy: RoutingPolicy(gating: .softmax, normalizesTopK: true))
        #expect(all == [2, 1, 0])
        #expect(abs(weights.reduce(0, +) - 1) < 1e-6)
    }

    @Test("with capture off nothing is recorded")
    func captureOff() {
        let (_, experts, _, records) = Self.route(
            Self.logits, k: 2, policy: RoutingPolicy(gating: .softmax, normalizesTopK: true),
            capture: false)
        #expect(experts == [1, 3])
        #expect(records.isEmpty)
    }
}
