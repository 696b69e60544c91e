/// How the tokens of a session were sampled, as a trace header records it. Every field is
/// optional so that traces imported from other programs can leave out what they do not know.
public struct SamplingSettings: Sendable, Equatable, Codable {
    /// Softmax temperature; 0 means greedy (argmax).
    public var temperature: Double?
    /// Keep only the k most likely tokens (0 or nil: off).
    public var topK: Int?
    /// Nucleus sampling: keep the smallest set whose probability reaches p (1 or nil: off).
    public var topP: Double?
    /// Drop tokens below min-p times the top probability (0 or nil: off).
    public var minP: Double?
    /// Penalty applied to recently generated tokens (1 or nil: off).
    public var repetitionPenalty: Double?
    /// Random seed of the sampler.
    public var seed: UInt64?
    /// Most tokens to generate.
    public var maxTokens: Int?

    public init(
        temperature: Double? = nil, topK: Int? = nil, topP: Double? = nil, minP: Double? = nil,
        repetitionPenalty: Double? = nil, seed: UInt64? = nil, maxTokens: Int? = nil
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
        self.maxTokens = maxTokens
    }
}
