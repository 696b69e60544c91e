/// The architecture-agnostic hyper-parameters of a model, read from its GGUF metadata through
/// one table (`ModelConfiguration.keyTable`), validated against each other and against the
/// tensors, with the parameter counts of the tensor table.
///
/// Per-layer values are arrays of `blockCount` entries whether the file stores one scalar or an
/// array (llama.cpp's `get_key_or_arr`). Values the file does not give are nil; defaults that
/// depend on the architecture are the engine's business.
public struct ModelConfiguration: Sendable, Equatable {
    /// `general.architecture` (`qwen3moe`, `olmoe`, `llama`, ...).
    public var architecture = ""
    /// `general.name`.
    public var name: String?

    /// Transformer blocks (`blk.0` ... `blk.{blockCount-1}`).
    public var blockCount = 0
    /// Training context length.
    public var contextLength: Int?
    /// Hidden size (n_embd).
    public var embeddingLength = 0
    /// Dense FFN width per layer (for Mixtral-style files also the expert width).
    public var feedForwardLength: [Int]?
    /// Query heads per layer.
    public var headCount: [Int] = []
    /// Key/value heads per layer (nil: same as `headCount`).
    public var headCountKV: [Int]?
    /// Head dimension of keys and queries (nil: embeddingLength / headCount).
    public var keyLength: Int?
    /// Head dimension of values (nil: embeddingLength / headCount).
    public var valueLength: Int?
    /// RMSNorm epsilon.
    public var rmsNormEpsilon: Float?
    /// LayerNorm epsilon.
    public var layerNormEpsilon: Float?
    /// RoPE base frequency.
    public var ropeFrequencyBase: Float?
    /// Rotated dimensions per head.
    public var ropeDimensionCount: Int?
    /// RoPE scaling type (`none`, `linear`, `yarn`, ...).
    public var ropeScalingType: String?
    /// RoPE scaling factor.
    public var ropeScalingFactor: Float?
    /// YaRN original context length.
    public var ropeScalingOriginalContextLength: Int?
    /// Sliding attention window.
    public var slidingWindow: Int?

    /// Routed experts per MoE layer (nil or 0: dense).
    public var expertCount: Int?
    /// Experts chosen per token (top-k), per layer.
    public var expertUsedCount: [Int]?
    /// Shared experts (deepseek2 style).
    public var expertSharedCount: Int?
    /// Width of one routed expert's FFN, per layer.
    public var expertFeedForwardLength: [Int]?
    /// Width of the shared expert's FFN.
    public var expertSharedFeedForwardLength: Int?
    /// Factor applied to the routed experts' weights.
    public var expertWeightsScale: Float?
    /// Whether top-k weights are renormalised (deepseek2 stores it; others imply it).
    public var expertWeightsNorm: Bool?
    /// Gating function id: 1 softmax, 2 sigmoid, 4 sqrt(softplus).
    public var expertGatingFunction: Int?
    /// Expert groups (group-limited routing).
    public var expertGroupCount: Int?
    /// Groups chosen per token.
    public var expertGroupUsedCount: Int?
    /// Leading blocks with a dense FFN.
    public var leadingDenseBlockCount: Int?

    /// Logits are divided by this (granitemoe).
    public var logitScale: Float?
    /// Branch outputs are multiplied by this before each residual add (granitemoe).
    public var residualScale: Float?
    /// Token embeddings are multiplied by this (granitemoe).
    public var embeddingScale: Float?
    /// Replaces 1/sqrt(head dimension) as the attention scale (granitemoe).
    public var attentionScale: Float?

    /// `{arch}.vocab_size` when stored.
    public var vocabularySizeKey: Int?
    /// `tokenizer.ggml.model` (`gpt2`, `llama`, ...).
    public var tokenizerModel: String?
    /// `tokenizer.ggml.pre`.
    public var tokenizerPre: String?
    /// Tokens in `tokenizer.ggml.tokens` (nil when the file has no vocabulary).
    public var tokenCount: Int?

    /// Parameter counts from the tensor table.
    public var parameters = ParameterCounts()

    /// Whether the model routes tokens to experts.
    public var isMixtureOfExperts: Bool { (expertCount ?? 0) > 0 }

    /// The vocabulary size: the token list's length, else `{arch}.vocab_size`.
    public var vocabularySize: Int? { tokenCount ?? vocabularySizeKey }

    /// The head dimension of keys and queries in `layer`.
    public func headDimension(layer: Int = 0) -> Int {
        keyLength ?? embeddingLength / headCount[layer]
    }

    /// Shared experts per MoE layer: `expert_shared_count` when stored, else 1 when the file
    /// has shared-expert (`*_shexp*`) tensors (qwen2moe, granitemoe-shared, Mixtral-style).
    public var sharedExpertCount: Int {
        expertSharedCount ?? (parameters.shared > 0 ? 1 : 0)
    }

    /// Top-k of the first MoE layer (0 for a dense model).
    public var expertsPerToken: Int {
        guard isMixtureOfExperts, let used = expertUsedCount else { return 0 }
        return parameters.moeLayers.first.map { used[$0] } ?? used.first ?? 0
    }

    // MARK: the key table

    /// What one key is read as and where it goes.
    public enum Field: Sendable {
        case int(WritableKeyPath<ModelConfiguration, Int?> & Sendable)
        case perLayer(WritableKeyPath<ModelConfiguration, [Int]?> & Sendable)
        case float(WritableKeyPath<ModelConfiguration, Float?> & Sendable)
        case bool(WritableKeyPath<ModelConfiguration, Bool?> & Sendable)
        case string(WritableKeyPath<ModelConfiguration, String?> & Sendable)
    }

    /// A GGUF key and the property it fills. `architectural` keys carry the `{arch}.` prefix.
    public struct KeyMapping: Sendable {
        public let key: String
        public let architectural: Bool
        public let field: Field
    }

    /// The one table from GGUF keys to properties (the required `general.architecture`,
    /// `block_count`, `embedding_length` and `attention.head_count` are read first, by hand).
    public static var keyTable: [KeyMapping] {
        func arch(_ key: String, _ field: Field) -> KeyMapping {
            KeyMapping(key: key, architectural: true, field: field)
        }
        func global(_ key: String, _ field: Field) -> KeyMapping {
            KeyMapping(key: key, architectural: false, field: field)
        }
        return [
            global("general.name", .string(\.name)),
            arch("context_length", .int(\.contextLength)),
            arch("feed_forward_length", .perLayer(\.feedForwardLength)),
            arch("attention.head_count_kv", .perLayer(\.headCountKV)),
            arch("attention.key_length", .int(\.keyLength)),
            arch("attention.value_length", .int(\.valueLength)),
            arch("attention.layer_norm_rms_epsilon", .float(\.rmsNormEpsilon)),
            arch("attention.layer_norm_epsilon", .float(\.layerNormEpsilon)),
            arch("attention.scale", .float(\.attentionScale)),
            arch("attention.sliding_window", .int(\.slidingWindow)),
            arch("rope.freq_base", .float(\.ropeFrequencyBase)),
            arch("rope.dimension_count", .int(\.ropeDimensionCount)),
            arch("rope.scaling.type", .string(\.ropeScalingType)),
            arch("rope.scaling.factor", .float(\.ropeScalingFactor)),
            arch("rope.scaling.original_context_length", .int(\.ropeScalingOriginalContextLength)),
            arch("expert_count", .int(\.expertCount)),
            arch("expert_used_count", .perLayer(\.expertUsedCount)),
            arch("expert_shared_count", .int(\.expertSharedCount)),
            arch("expert_feed_forward_length", .perLayer(\.expertFeedForwardLength)),
            arch("expert_shared_feed_forward_length", .int(\.expertSharedFeedForwardLength)),
            arch("expert_weights_scale", .float(\.expertWeightsScale)),
            arch("expert_weights_norm", .bool(\.expertWeightsNorm)),
            arch("expert_gating_func", .int(\.expertGatingFunction)),
            arch("expert_group_count", .int(\.expertGroupCount)),
            arch("expert_group_used_count", .int(\.expertGroupUsedCount)),
            arch("leading_dense_block_count", .int(\.leadingDenseBlockCount)),
            arch("logit_scale", .float(\.logitScale)),
            arch("residual_scale", .float(\.residualScale)),
            arch("embedding_scale", .float(\.embeddingScale)),
            arch("vocab_size", .int(\.vocabularySizeKey)),
            global("tokenizer.ggml.model", .string(\.tokenizerModel)),
            global("tokenizer.ggml.pre", .string(\.tokenizerPre)),
        ]
    }

    /// The full key of a mapping for `architecture`.
    public static func fullKey(_ mapping: KeyMapping, architecture: String) -> String {
        mapping.architectural ? "\(architecture).\(mapping.key)" : mapping.key
    }

    // MARK: reading

    /// Reads and validates the configuration of `file`.
    public init(file: GGUFFile) throws(GGUFError) {
        let metadata = file.metadata

        // the keys everything else depends on
        architecture = try metadata.requiredString("general.architecture")
        let prefix = architecture + "."
        blockCount = try metadata.requiredInt(prefix + "block_count")
        guard blockCount > 0 else {
            throw metadata.error(
                prefix + "block_count",
                .invalidValue(
                    key: prefix + "block_count", found: "\(blockCount)", expected: "at least 1"))
        }
        // Every layer needs tensors, so a block_count above the tensor count must leave a layer
        // empty: find it before anything is sized by block_count.
        let layersPresent = Set(file.tensors.compactMap { ParameterCounts.layerIndex(of: $0.name) })
        let searched = min(blockCount, file.tensors.count + 1)
        if let missing = (0..<searched).first(where: { !layersPresent.contains($0) }) {
            throw GGUFError(
                path: file.path, offset: metadata.offset(of: prefix + "block_count"),
                reason: .missingLayer(layer: missing, blockCount: blockCount))
        }
        embeddingLength = try metadata.requiredInt(prefix + "embedding_length")
        headCount = try metadata.requiredPerLayerInts(
            prefix + "attention.head_count", layers: blockCount)

        // everything in the table
        for mapping in Self.keyTable {
            let key = Self.fullKey(mapping, architecture: architecture)
            switch mapping.field {
            case .int(let path): self[keyPath: path] = try metadata.optionalInt(key)
            case .perLayer(let path):
                self[keyPath: path] = try metadata.optionalPerLayerInts(key, layers: blockCount)
            case .float(let path): self[keyPath: path] = try metadata.optionalFloat(key)
            case .bool(let path): self[keyPath: path] = try metadata.optionalBool(key)
            case .string(let path): self[keyPath: path] = try metadata.optionalString(key)
            }
        }
        if let tokens = try metadata.optionalArray("tokenizer.ggml.tokens") {
            guard tokens.elementType == .string else {
                throw metadata.error(
                    "tokenizer.ggml.tokens",
                    .wrongType(
                        key: "tokenizer.ggml.tokens", expected: "ARRAY of STRING",
                        found: "ARRAY of \(tokens.elementType.name)"))
            }
            tokenCount = tokens.count
        }

        try validateMetadata(metadata)
        try validateTensors(file)
        parameters = try ParameterCounts(file: file, configuration: self)
    }

    /// Checks values that contradict each other.
    private func validateMetadata(_ metadata: GGUFMetadata) throws(GGUFError) {
        let prefix = architecture + "."
        func invalid(_ key: String, _ found: Any, _ expected: String) -> GGUFError {
            metadata.error(
                prefix + key,
                .invalidValue(key: prefix + key, found: "\(found)", expected: expected))
        }
        func positive(_ key: String, _ value: Int?) throws(GGUFError) {
            if let value, value <= 0 { throw invalid(key, value, "at least 1") }
        }

        guard embeddingLength > 0 else {
            throw invalid("embedding_length", embeddingLength, "at least 1")
        }
        for (layer, heads) in headCount.enumerated() where heads <= 0 {
            throw invalid("attention.head_count", heads, "at least 1 (layer \(layer))")
        }
        if let headCountKV {
            for (layer, kvHeads) in headCountKV.enumerated() {
                guard kvHeads > 0, headCount[layer] % kvHeads == 0 else {
                    throw invalid(
                        "attention.head_count_kv", kvHeads,
                        "a divisor of attention.head_count \(headCount[layer]) (layer \(layer))")
                }
            }
        }
        try positive("context_length", contextLength)
        try positive("attention.key_length", keyLength)
        try positive("attention.value_length", valueLength)
        if keyLength == nil, embeddingLength % headCount[0] != 0 {
            throw invalid(
                "attention.head_count", headCount[0],
                "a divisor of embedding_length \(embeddingLength) (no attention.key_length is given)"
            )
        }
        if let ropeDimensionCount {
            let headDimension = headDimension()
            guard ropeDimensionCount > 0, ropeDimensionCount <= headDimension,
                ropeDimensionCount % 2 == 0
            else {
                throw invalid(
                    "rope.dimension_count", ropeDimensionCount,
                    "an even number in 2...\(headDimension) (the head dimension)")
            }
        }
        if let rmsNormEpsilon, !(rmsNormEpsilon > 0 && rmsNormEpsilon.isFinite) {
            throw invalid(
                "attention.layer_norm_rms_epsilon", rmsNormEpsilon, "a positive finite number")
        }
        if let feedForwardLength, let bad = feedForwardLength.first(where: { $0 < 0 }) {
            throw invalid("feed_forward_length", bad, "at least 0")
        }
        if let expertFeedForwardLength, let bad = expertFeedForwardLength.first(where: { $0 <= 0 })
        {
            throw invalid("expert_feed_forward_length", bad, "at least 1")
        }

        // experts
        let experts = expertCount ?? 0
        guard experts >= 0 else { throw invalid("expert_count", experts, "at least 0") }
        if experts > 0 {
            guard let used = expertUsedCount else {
                throw GGUFError(
                    path: metadata.path, offset: nil,
                    reason: .missingKey(key: prefix + "expert_used_count"))
            }
            for (layer, k) in used.enumerated() where k < 1 || k > experts {
                throw invalid(
                    "expert_used_count", k,
                    "1...\(experts) (expert_count) in layer \(layer)")
            }
        } else if let used = expertUsedCount, let k = used.first(where: { $0 > 0 }) {
            throw invalid("expert_used_count", k, "0, because expert_count is \(experts)")
        }
        if let groups = expertGroupCount, let usedGroups = expertGroupUsedCount {
            guard groups > 0, experts % groups == 0 else {
                throw invalid("expert_group_count", groups, "a divisor of expert_count \(experts)")
            }
            guard usedGroups >= 1, usedGroups <= groups else {
                throw invalid(
                    "expert_group_used_count", usedGroups, "1...\(groups) (expert_group_count)")
            }
        }
        if let leading = leadingDenseBlockCount, leading < 0 || leading > blockCount {
            throw invalid("leading_dense_block_count", leading, "0...\(blockCount) (block_count)")
        }
    }

    /// Checks the tensors against the metadata: every layer has tensors, no tensor lies outside
    /// the layers, router and expert tensors have expert_count experts, the embedding is
    /// embedding_length wide and has a row per token.
    private func validateTensors(_ file: GGUFFile) throws(GGUFError) {
        var layersSeen = Set<Int>()
        for tensor in file.tensors {
            guard let layer = ParameterCounts.layerIndex(of: tensor.name) else { continue }
            guard layer < blockCount else {
                throw GGUFError(
                    path: file.path, offset: tensor.infoOffset,
                    reason: .tensorOutsideLayers(tensor: tensor.name, blockCount: blockCount))
            }
            layersSeen.insert(layer)
        }
        if let missing = (0..<blockCount).first(where: { !layersSeen.contains($0) }) {
            throw GGUFError(
                path: file.path, offset: file.metadata.offset(of: architecture + ".block_count"),
                reason: .missingLayer(layer: missing, blockCount: blockCount))
        }

        func mismatch(_ tensor: GGUFTensorInfo, _ expected: String) -> GGUFError {
            GGUFError(
                path: file.path, offset: tensor.infoOffset,
                reason: .tensorShapeMismatch(
                    tensor: tensor.name, found: tensor.shape, expected: expected))
        }
        if let embedding = file.tensor(named: "token_embd.weight") {
            guard embedding.shape[0] == embeddingLength else {
                throw mismatch(embedding, "ne[0] = \(embeddingLength) (embedding_length)")
            }
            if let tokenCount, embedding.dimension(1) != tokenCount {
                throw mismatch(embedding, "ne[1] = \(tokenCount) (tokens in tokenizer.ggml.tokens)")
            }
        }

        let experts = expertCount ?? 0
        for tensor in file.tensors {
            guard let layer = ParameterCounts.layerIndex(of: tensor.name) else { continue }
            if ParameterCounts.isRouter(tensor.name) {
                guard experts > 0 else {
                    throw GGUFError(
                        path: file.path,
                        offset: file.metadata.offset(of: architecture + ".expert_count"),
                        reason: .invalidValue(
                            key: architecture + ".expert_count", found: "\(experts)",
                            expected: "at least 1, because \(tensor.name) exists"))
                }
                if tensor.name.hasSuffix(".weight") {
                    guard tensor.shape[0] == embeddingLength, tensor.dimension(1) == experts,
                        tensor.shape.count <= 2
                    else {
                        throw mismatch(
                            tensor,
                            "[\(embeddingLength), \(experts)] (embedding_length, expert_count)")
                    }
                }
            } else if ParameterCounts.isRoutedExpert(tensor.name) {
                guard experts > 0, tensor.shape.count >= 2, tensor.shape.last == experts else {
                    throw mismatch(tensor, "a last dimension of \(experts) (expert_count)")
                }
                let router = "blk.\(layer).ffn_gate_inp.weight"
                guard file.tensor(named: router) != nil else {
                    throw GGUFError(
                        path: file.path, offset: tensor.infoOffset,
                        reason: .missingTensor(name: router))
                }
            }
        }
    }
}
