/// Everything the forward pass needs to know about a model's shape, in full words.
///
/// Filled once from the file's validated `ModelConfiguration` (see `Model+Load.swift`); the hot
/// path reads only these fields. Names map to GGUF keys `{arch}.<key>` as noted.
public struct Hyperparameters: Sendable, Equatable {
    /// `general.architecture`.
    public var architecture: String
    /// Rows of `token_embd` (`vocab_size`, else the tokenizer's token count).
    public var vocabularySize: Int
    /// `embedding_length`: the width of the residual stream.
    public var embeddingLength: Int
    /// `block_count`.
    public var blockCount: Int
    /// `context_length`: the longest sequence the model was trained for.
    public var contextLength: Int
    /// `attention.head_count`.
    public var headCount: Int
    /// `attention.head_count_kv`.
    public var kvHeadCount: Int
    /// `attention.key_length`: the width of one query/key head.
    public var keyLength: Int
    /// `attention.value_length`: the width of one value head.
    public var valueLength: Int
    /// `rope.dimension_count`: how many leading dimensions of each head are rotated.
    public var ropeDimensionCount: Int
    /// `rope.freq_base`.
    public var ropeFrequencyBase: Float
    /// 1 / `rope.scaling.factor` for linear scaling, 1 when there is none.
    public var ropeFrequencyScale: Float
    /// `attention.layer_norm_rms_epsilon`.
    public var rmsNormEpsilon: Float
    /// `expert_count` (0 for a dense model).
    public var expertCount: Int
    /// `expert_used_count`: k.
    public var expertsPerToken: Int
    /// Width of a dense FFN (`feed_forward_length`).
    public var feedForwardLength: Int
    /// Width of one routed expert (`expert_feed_forward_length`, or `feed_forward_length` for
    /// the architectures whose experts use it).
    public var expertFeedForwardLength: Int
    /// Width of the shared expert (`expert_shared_feed_forward_length`), 0 when there is none.
    public var sharedFeedForwardLength: Int
    /// Granite: token embeddings are multiplied by this (`embedding_scale`), else 1.
    public var embeddingScale: Float
    /// Granite: replaces 1/sqrt(keyLength) as the attention scale (`attention.scale`), else nil.
    public var attentionScale: Float?
    /// Granite: each branch output is multiplied by this before its residual add
    /// (`residual_scale`), else 1.
    public var residualScale: Float
    /// Granite: logits are divided by this (`logit_scale`), else 1.
    public var logitScale: Float

    public init(
        architecture: String, vocabularySize: Int, embeddingLength: Int, blockCount: Int,
        contextLength: Int, headCount: Int, kvHeadCount: Int, keyLength: Int, valueLength: Int,
        ropeDimensionCount: Int, ropeFrequencyBase: Float, ropeFrequencyScale: Float = 1,
        rmsNormEpsilon: Float, expertCount: Int, expertsPerToken: Int, feedForwardLength: Int,
        expertFeedForwardLength: Int, sharedFeedForwardLength: Int = 0,
        embeddingScale: Float = 1, attentionScale: Float? = nil, residualScale: Float = 1,
        logitScale: Float = 1
    ) {
        self.architecture = architecture
        self.vocabularySize = vocabularySize
        self.embeddingLength = embeddingLength
        self.blockCount = blockCount
        self.contextLength = contextLength
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.keyLength = keyLength
        self.valueLength = valueLength
        self.ropeDimensionCount = ropeDimensionCount
        self.ropeFrequencyBase = ropeFrequencyBase
        self.ropeFrequencyScale = ropeFrequencyScale
        self.rmsNormEpsilon = rmsNormEpsilon
        self.expertCount = expertCount
        self.expertsPerToken = expertsPerToken
        self.feedForwardLength = feedForwardLength
        self.expertFeedForwardLength = expertFeedForwardLength
        self.sharedFeedForwardLength = sharedFeedForwardLength
        self.embeddingScale = embeddingScale
        self.attentionScale = attentionScale
        self.residualScale = residualScale
        self.logitScale = logitScale
    }

    /// Width of all query heads together: headCount × keyLength.
    public var queryWidth: Int { headCount * keyLength }
    /// Width of all key heads together: kvHeadCount × keyLength.
    public var keyWidth: Int { kvHeadCount * keyLength }
    /// Width of all value heads together: kvHeadCount × valueLength.
    public var valueWidth: Int { kvHeadCount * valueLength }
}
