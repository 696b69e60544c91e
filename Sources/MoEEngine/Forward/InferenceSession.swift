import MoERouting

/// Which logits a forward pass returns.
public enum LogitsRequest: Sendable {
    /// None (the prompt is only being cached).
    case none
    /// The last token's, for sampling the next token.
    case last
    /// Every token's (tests, perplexity).
    case all
}

/// What one forward pass over a batch of tokens produced.
public struct Evaluation: Sendable {
    /// Logits, `[rows, vocabularySize]` row-major: no rows, the last token's row, or one row per
    /// token, as requested.
    public var logits: [Float]
    /// With capture on: for each token, one record per MoE layer in block order. Empty with
    /// capture off.
    public var routing: [[RoutingRecord]]
}

/// One sequence being run through a model: its KV cache, its position and the scratch memory
/// of the forward pass. Not thread-safe: one thread drives a session (the kernels' thread pool
/// does the parallel work inside each call).
public final class InferenceSession {
    /// The model this session runs.
    public let model: Model
    /// Positions this session can hold (at most the model's training context).
    public let contextLength: Int
    /// Tokens processed so far: the position of the next token.
    public private(set) var position = 0
    /// The kernels' worker pool.
    public let pool: ThreadPool

    var cache: KVCache
    let rope: RotaryEmbedding

    /// Creates a session.
    /// - Parameters:
    ///   - contextLength: positions to allow; nil means the model's training context, capped at
    ///     `defaultContextCap` so a 40 960-token model does not reserve its whole cache.
    ///   - threads: kernel threads (the calling thread included). Results do not depend on it.
    public init(model: Model, contextLength: Int? = nil, threads: Int = 1) throws {
        let hp = model.hyperparameters
        let requested = contextLength ?? min(hp.contextLength, Self.defaultContextCap)
        guard requested >= 1 else {
            throw EngineError.invalidSetting(
                name: "context length", value: "\(requested)", expected: "at least 1")
        }
        self.model = model
        self.contextLength = min(requested, hp.contextLength)
        self.pool = ThreadPool(threadCount: threads)
        cache = KVCache(
            layers: hp.blockCount, keyWidth: hp.keyWidth, valueWidth: hp.valueWidth,
            maximum: self.contextLength)
        rope = RotaryEmbedding(
            pairing: model.architecture.ropePairing, dimensionCount: hp.ropeDimensionCount,
            base: hp.ropeFrequencyBase, frequencyScale: hp.ropeFrequencyScale)
    }

    /// The context a session gets when none is asked for: 4096 positions or the model's own,
    /// whichever is smaller.
    public static let defaultContextCap = 4096

    /// Forgets every token: the next `evaluate` starts at position 0.
    public func reset() { position = 0 }

    /// Runs `tokens` through the model at the current position and appends them to the cache.
    /// - Parameters:
    ///   - logits: which logits to return.
    ///   - captureRouting: record every MoE layer's routing for every token.
    public func evaluate(_ tokens: [Int32], logits: LogitsRequest, captureRouting: Bool)
        throws -> Evaluation
    {
        let hp = model.hyperparameters
        guard !tokens.isEmpty else { throw EngineError.emptyPrompt }
        guard position + tokens.count <= contextLength else {
            throw EngineError.promptTooLong(
                tokens: position + tokens.count, contextLength: contextLength)
        }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= hp.vocabularySize }) {
            throw EngineError.tokenOutOfRange(token: bad, vocabularySize: hp.vocabularySize)
        }
        cache.reserve(position + tokens.count)
        let capture = captureRouting ? RoutingCapture(tokens: tokens.count) : nil
        let result = forward(tokens, logits: logits, capture: capture)
        position += tokens.count
        return Evaluation(logits: result, routing: capture?.records ?? [])
    }
}

/// Routing records collected during one forward pass: `records[token]` holds one record per MoE
/// layer, appended in block order.
final class RoutingCapture {
    var records: [[RoutingRecord]]

    init(tokens: Int) {
        records = Array(repeating: [], count: tokens)
    }
}
