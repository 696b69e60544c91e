import Foundation

/// Routing made up from a seed, shaped like a real router's: for benchmarks, crash tests and
/// demos of traces, never for claims about a model.
///
/// Each layer has a fixed popularity per expert (a Zipf-like bias, shuffled per layer) and each
/// token adds Gaussian noise, with some persistence from the previous token so that the
/// consecutive repeat rate is above chance. Logits → softmax → top-k → weights renormalised
/// to sum to one.
public struct SyntheticRouting: Sendable {
    public let model: ModelDescription
    private var random: SeededRandom
    /// Per-layer expert bias. `[layers, experts]`
    private var bias: [Float]
    /// The previous token's logits, for persistence. `[layers, experts]`
    private var previous: [Float]
    private var position = 0

    /// Noise scale of the per-token logits.
    private static let noise: Float = 1.0
    /// Share of the previous token's logits carried into the next.
    private static let persistence: Float = 0.5

    /// A made-up model description: `layers` MoE blocks of `experts` experts, top-`topK`.
    public static func model(layers: Int, experts: Int, topK: Int, seed: UInt64)
        -> ModelDescription
    {
        let perExpert = 3 * 1024 * 512
        return ModelDescription(
            name: "synthetic-\(layers)x\(experts)-top\(topK)", architecture: "synthetic",
            fingerprint: String(
                format: "synthetic-%016llx", seed ^ UInt64(layers << 32 | experts << 8 | topK)),
            layerCount: layers, moeLayers: Array(0..<layers), expertCount: experts,
            expertsPerToken: topK, sharedExpertCount: 0, gating: .softmax, normalizesTopK: true,
            weightsScale: 1, totalParameters: layers * experts * perExpert,
            activeParameters: layers * topK * perExpert, parametersPerExpert: perExpert,
            bytesPerExpert: perExpert * 2, alwaysActiveBytes: 0)
    }

    public init(model: ModelDescription, seed: UInt64) {
        self.model = model
        self.random = SeededRandom(seed: seed)
        let e = model.expertCount
        var bias: [Float] = []
        for _ in model.moeLayers {
            var ranks = Array(0..<e)
            ranks.shuffle(using: &random)
            // Zipf-like: log-popularity falls with rank
            bias += ranks.map { -0.8 * Float(log(Double($0 + 1))) }
        }
        self.bias = bias
        self.previous = Array(repeating: 0, count: bias.count)
    }

    /// The next token: prefill for the first `prefillTokens`, decode after.
    public mutating func next(prefillTokens: Int = 0) -> TokenStep {
        let e = model.expertCount
        let k = model.expertsPerToken
        var records: [RoutingRecord] = []
        records.reserveCapacity(model.moeLayers.count)
        for (slot, layer) in model.moeLayers.enumerated() {
            // logits: bias + noise + persistence
            var logits = [Float](repeating: 0, count: e)
            for expert in 0..<e {
                let cell = slot * e + expert
                logits[expert] =
                    bias[cell] + Self.noise * random.gaussian() + Self.persistence
                    * previous[cell]
                previous[cell] = logits[expert] - bias[cell]
            }
            // softmax
            let peak = logits.max() ?? 0
            var probabilities = logits.map { Float(exp(Double($0 - peak))) }
            let total = probabilities.reduce(0, +)
            for expert in 0..<e { probabilities[expert] /= total }
            // top-k, renormalised
            var chosen: [Int] = []
            for _ in 0..<k {
                var best = -1
                for expert in 0..<e where !chosen.contains(expert) {
                    if best < 0 || probabilities[expert] > probabilities[best] { best = expert }
                }
                chosen.append(best)
            }
            let mass = chosen.reduce(Float(0)) { $0 + probabilities[$1] }
            records.append(
                RoutingRecord(
                    layer: layer, logits: logits, probabilities: probabilities,
                    experts: chosen.map { Int32($0) },
                    weights: chosen.map { probabilities[$0] / mass }))
        }
        let phase: Phase = position < prefillTokens ? .prefill : .decode
        let id = Int32(random.next() % 32_000)
        defer { position += 1 }
        return TokenStep(
            tokenID: id, piece: Self.pieces[Int(id) % Self.pieces.count], position: position,
            phase: phase, records: records,
            timing: StepTiming(forward: 0.02 + 0.005 * Double(random.gaussian()), sampling: 1e-4))
    }

    private static let pieces = [
        " the", " model", " routes", " every", " token", ",", " expert", " layer", ".", "\n",
        " def", "(", ")", " é", " 中", " 😀",
    ]
}

/// SplitMix64 with a Box-Muller Gaussian: deterministic across platforms. The one seeded
/// generator of moetop's synthetic models, traces and benchmarks.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    private var spare: Float?

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal sample.
    public mutating func gaussian() -> Float {
        if let spare {
            self.spare = nil
            return spare
        }
        let u = max(Double(next() >> 11) / Double(1 << 53), Double.leastNonzeroMagnitude)
        let v = Double(next() >> 11) / Double(1 << 53)
        let radius = (-2 * log(u)).squareRoot()
        spare = Float(radius * sin(2 * .pi * v))
        return Float(radius * cos(2 * .pi * v))
    }
}
