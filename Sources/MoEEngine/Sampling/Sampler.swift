import Foundation
import MoERouting

/// How the next token is chosen from the logits. Defaults are llama.cpp's.
public struct SamplerSettings: Sendable, Equatable {
    /// Softmax temperature; 0 (or less) is greedy: the most likely token, ties to the lower id.
    public var temperature: Float = 0.8
    /// Keep only the k most likely tokens; 0 is off.
    public var topK: Int = 40
    /// Keep the smallest set of most likely tokens whose probability reaches p; 1 is off.
    public var topP: Float = 0.95
    /// Drop tokens whose probability is below minP × the top probability; 0 is off.
    public var minP: Float = 0.05
    /// Divide positive logits (multiply negative ones) of recent tokens by this; 1 is off.
    public var repetitionPenalty: Float = 1
    /// How many of the most recent tokens the repetition penalty looks at.
    public var repetitionWindow: Int = 64
    /// Seed of the random draw; the same seed gives the same tokens.
    public var seed: UInt64 = 0

    public init(
        temperature: Float = 0.8, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
        repetitionPenalty: Float = 1, repetitionWindow: Int = 64, seed: UInt64 = 0
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
    }

    /// Argmax, nothing random.
    public static let greedy = SamplerSettings(temperature: 0)

    /// Throws `EngineError.invalidSetting` for a value out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ name: String, _ value: Any, _ expected: String) throws {
            if !ok {
                throw EngineError.invalidSetting(name: name, value: "\(value)", expected: expected)
            }
        }
        try check(temperature.isFinite, "temperature", temperature, "a finite number")
        try check(topK >= 0, "top-k", topK, "0 (off) or more")
        try check(topP > 0 && topP <= 1, "top-p", topP, "a number in (0, 1]")
        try check(minP >= 0 && minP <= 1, "min-p", minP, "a number in [0, 1]")
        try check(
            repetitionPenalty > 0 && repetitionPenalty.isFinite, "repetition penalty",
            repetitionPenalty, "a positive number")
        try check(repetitionWindow >= 0, "repetition window", repetitionWindow, "0 or more")
    }

    /// The settings as a trace header records them.
    public var traceSettings: SamplingSettings {
        SamplingSettings(
            temperature: Double(temperature), topK: topK, topP: Double(topP), minP: Double(minP),
            repetitionPenalty: Double(repetitionPenalty), seed: seed)
    }
}

/// Chooses tokens from logits. Steps, in llama.cpp's default order:
/// 1. repetition penalty on the distinct tokens of the last `repetitionWindow` (logit > 0:
///    divided by the penalty, else multiplied);
/// 2. temperature ≤ 0: the argmax, done;
/// 3. top-k: the k largest logits (ties: lower id first);
/// 4. top-p: the shortest prefix whose softmax probability reaches p;
/// 5. min-p: drop what is below minP × the top probability;
/// 6. temperature: softmax(logits / T) over what is left, one draw from the seeded generator.
/// Everything is sequential, so the result depends on the settings, the logits and the seed only.
public struct Sampler: Sendable {
    public let settings: SamplerSettings
    private var random: SeededGenerator

    public init(settings: SamplerSettings) {
        self.settings = settings
        random = SeededGenerator(seed: settings.seed)
    }

    /// The next token for `logits` [vocabulary], with `history` the tokens so far (prompt
    /// included) for the repetition penalty.
    public mutating func sample(_ logits: [Float], history: [Int32]) -> Int32 {
        var logits = logits

        // repetition penalty
        if settings.repetitionPenalty != 1 && settings.repetitionWindow > 0 {
            for token in Set(history.suffix(settings.repetitionWindow))
            where token >= 0 && Int(token) < logits.count {
                let value = logits[Int(token)]
                logits[Int(token)] =
                    value > 0
                    ? value / settings.repetitionPenalty : value * settings.repetitionPenalty
            }
        }

        // greedy
        if settings.temperature <= 0 {
            var best = 0
            for index in logits.indices where logits[index] > logits[best] { best = index }
            return Int32(best)
        }

        // candidates by descending logit (ties: lower id first), cut to top-k
        var candidates = Array(logits.indices)
        let order: (Int, Int) -> Bool = { a, b in
            logits[a] != logits[b] ? logits[a] > logits[b] : a < b
        }
        if settings.topK > 0 && settings.topK < candidates.count {
            candidates = Array(candidates.sorted(by: order).prefix(settings.topK))
        } else {
            candidates.sort(by: order)
        }

        // probabilities at temperature 1 for top-p and min-p
        let top = logits[candidates[0]]
        var probabilities = candidates.map { expf(logits[$0] - top) }
        let total = probabilities.reduce(0, +)
        for index in probabilities.indices { probabilities[index] /= total }

        // top-p: the shortest prefix that reaches p
        if settings.topP < 1 {
            var cumulative: Float = 0
            var keep = candidates.count
            for (index, p) in probabilities.enumerated() {
                cumulative += p
                if cumulative >= settings.topP {
                    keep = index + 1
                    break
                }
            }
            candidates.removeLast(candidates.count - keep)
            probabilities.removeLast(probabilities.count - keep)
        }

        // min-p: relative to the top probability
        if settings.minP > 0 {
            let threshold = settings.minP * probabilities[0]
            let keep = max(
                1, probabilities.firstIndex(where: { $0 < threshold }) ?? probabilities.count)
            candidates.removeLast(candidates.count - keep)
        }

        // temperature, then one draw
        var weights = candidates.map { Double(expf((logits[$0] - top) / settings.temperature)) }
        let sum = weights.reduce(0, +)
        for index in weights.indices { weights[index] /= sum }
        let draw = random.nextUnit()
        var cumulative = 0.0
        for (index, weight) in weights.enumerated() {
            cumulative += weight
            if draw < cumulative { return Int32(candidates[index]) }
        }
        return Int32(candidates[candidates.count - 1])
    }
}
