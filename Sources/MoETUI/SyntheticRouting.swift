import Foundation
import MoERouting

/// Made-up models and routing, for tests, benchmarks and looking at the screen without a
/// model: a deterministic generator (seeded) whose routers prefer a few experts per layer,
/// so the heatmap and bars have structure. Not a model of any real router.
public struct SyntheticRouting: Sendable {
    public let model: ModelDescription
    private var state: UInt64
    /// Per layer, a preference per expert (log-weights), fixed at creation.
    private let preference: [[Double]]
    private var position = 0

    /// Words the synthetic tokens are drawn from, with a few wide and combining characters.
    static let words = [
        "the", " router", " sends", " each", " token", " to", " two", " experts", ".", "\n",
        " def", " parse", "(", "line", "):", " return", " 42", " 専門家", " naïve", " ✓", ",",
    ]

    /// A synthetic model description with `layers` MoE layers of `experts` experts, top-`k`.
    public static func model(
        layers: Int, experts: Int, topK: Int, name: String = "synthetic"
    ) -> ModelDescription {
        let perExpert = 3 * 256 * 512
        let alwaysActive = layers * 4 * 256 * 256 + 2 * 256 * 32_000
        return ModelDescription(
            name: name, architecture: "synthetic",
            fingerprint: "synthetic-\(layers)x\(experts)x\(topK)",
            layerCount: layers, moeLayers: Array(0..<layers), expertCount: experts,
            expertsPerToken: topK, sharedExpertCount: 0, gating: .softmax, normalizesTopK: true,
            weightsScale: 1, totalParameters: alwaysActive + layers * experts * perExpert,
            activeParameters: alwaysActive + layers * topK * perExpert,
            parametersPerExpert: perExpert, bytesPerExpert: perExpert * 2,
            alwaysActiveBytes: alwaysActive * 2)
    }

    public init(model: ModelDescription, seed: UInt64 = 1) {
        self.model = model
        self.state = seed | 1
        var preference: [[Double]] = []
        var rng = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        for _ in model.moeLayers {
            var row: [Double] = []
            for _ in 0..<model.expertCount {
                rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                row.append(Double(rng >> 11) / Double(1 << 53) * 1.6)
            }
            preference.append(row)
        }
        self.preference = preference
    }

    private mutating func uniform() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 53)
    }

    /// The next token: softmax routing over preference plus noise, top-k renormalised.
    public mutating func next(phase: Phase = .decode) -> TokenStep {
        let e = model.expertCount
        let k = min(model.expertsPerToken, e)
        var records: [RoutingRecord] = []
        records.reserveCapacity(model.moeLayers.count)
        for (slot, layer) in model.moeLayers.enumerated() {
            var logits = [Float](repeating: 0, count: e)
            for i in 0..<e { logits[i] = Float(preference[slot][i] + 2 * uniform()) }
            let peak = logits.max() ?? 0
            var probabilities = logits.map { exp($0 - peak) }
            let sum = probabilities.reduce(0, +)
            probabilities = probabilities.map { $0 / sum }
            let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
            let chosen = order.prefix(k)
            let chosenSum = chosen.reduce(Float(0)) { $0 + probabilities[$1] }
            records.append(
                RoutingRecord(
                    layer: layer, logits: logits, probabilities: probabilities,
                    experts: chosen.map { Int32($0) },
                    weights: chosen.map { probabilities[$0] / chosenSum }))
        }
        let word = Self.words[Int(uniform() * Double(Self.words.count)) % Self.words.count]
        defer { position += 1 }
        return TokenStep(
            tokenID: Int32(position % 32_000), piece: word, position: position, phase: phase,
            records: records, timing: StepTiming(forward: 0.02, sampling: 0.001))
    }

    /// `count` tokens: the first `prefill` as prompt tokens.
    public mutating func steps(_ count: Int, prefill: Int = 0) -> [TokenStep] {
        (0..<count).map { next(phase: $0 < prefill ? .prefill : .decode) }
    }
}
