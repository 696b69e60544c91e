/// Whether a token was processed as part of the prompt or generated.
public enum Phase: String, Sendable, Codable, CaseIterable {
    case prefill
    case decode
}

/// Wall-clock figures for one step, in seconds. The engine measures, callers read.
public struct StepTiming: Sendable, Equatable {
    /// Time spent in the forward pass attributed to this token. For a batched prefill this is
    /// the batch time divided by the batch size.
    public var forward: Double
    /// Time spent sampling the next token (zero for prefill tokens that are not the last).
    public var sampling: Double

    public init(forward: Double = 0, sampling: Double = 0) {
        self.forward = forward
        self.sampling = sampling
    }
}

/// One token as the generator yields it: the token, its text and the routing of every MoE
/// layer. The screen, the trace writer and the statistics consume these and nothing else.
public struct TokenStep: Sendable, Equatable {
    /// Vocabulary id of the token.
    public var tokenID: Int32
    /// The text this token adds to the output: always valid UTF-8. Bytes of a character that is
    /// not complete yet are held back and appear in a later step's piece.
    public var piece: String
    /// Position in the sequence, counting from zero at the first prompt token.
    public var position: Int
    /// Prompt token or generated token.
    public var phase: Phase
    /// One record per MoE layer, in block order. Empty when capture is off.
    public var records: [RoutingRecord]
    /// How long the step took.
    public var timing: StepTiming

    public init(
        tokenID: Int32, piece: String, position: Int, phase: Phase, records: [RoutingRecord],
        timing: StepTiming = StepTiming()
    ) {
        self.tokenID = tokenID
        self.piece = piece
        self.position = position
        self.phase = phase
        self.records = records
        self.timing = timing
    }
}
