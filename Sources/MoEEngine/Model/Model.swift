import Foundation
import MoEGGUF
import MoERouting

/// A loaded model: its file (memory-mapped), validated hyper-parameters, architecture and
/// weights. Immutable after loading, so one model can serve several sessions.
public final class Model: Sendable {
    /// The mapped file; every `WeightMatrix` points into it, so it lives as long as the model.
    public let file: GGUFFile
    /// The file's validated configuration and parameter counts.
    public let configuration: ModelConfiguration
    /// The architecture the forward pass follows.
    public let architecture: Architecture
    /// The shape of the model, as the forward pass reads it.
    public let hyperparameters: Hyperparameters
    /// What the screen and traces need to know about the model.
    public let description: ModelDescription
    /// Every block's weights, views into the mapped file.
    let weights: ModelWeights

    /// Loads and validates the model at `url`: metadata, architecture, every tensor's shape and
    /// type. Throws `GGUFError` for a malformed file, `EngineError` for a model the engine
    /// cannot run.
    public convenience init(url: URL) throws {
        try self.init(file: GGUFFile(url: url))
    }

    /// Builds a model over an opened file.
    public init(file: GGUFFile) throws {
        let name = file.path
        let architectureName = try file.metadata.requiredString("general.architecture")
        let architecture = try Architecture.named(architectureName, file: name)
        let configuration = try ModelConfiguration(file: file)
        let hyperparameters = try Hyperparameters(
            configuration: configuration, architecture: architecture, file: file)
        self.file = file
        self.configuration = configuration
        self.architecture = architecture
        self.hyperparameters = hyperparameters
        self.weights = try ModelWeights(
            loader: WeightLoader(file: file), hyperparameters: hyperparameters,
            architecture: architecture)
        self.description = try ModelDescription(
            file: file, configuration: configuration, architecture: architecture)
    }

    /// Block indices of the layers with a router, ascending.
    public var moeLayers: [Int] { configuration.parameters.moeLayers }
}

extension Hyperparameters {
    /// Maps a validated configuration to the engine's view: architecture defaults applied, and
    /// features the engine does not implement refused by name.
    init(configuration c: ModelConfiguration, architecture: Architecture, file: GGUFFile) throws {
        let name = file.path
        let prefix = c.architecture + "."
        func require<T>(_ value: T?, _ key: String) throws -> T {
            guard let value else {
                throw EngineError.hyperparameter(file: name, key: prefix + key, reason: "missing")
            }
            return value
        }
        func uniform(_ values: [Int]?, _ key: String) throws -> Int? {
            guard let values, let first = values.first else { return nil }
            guard values.allSatisfy({ $0 == first }) else {
                throw EngineError.unsupportedFeature(
                    file: name, feature: "\(prefix + key) varying per layer \(values)")
            }
            return first
        }

        // attention
        let headCount = try require(
            uniform(c.headCount, "attention.head_count"), "attention.head_count")
        let kvHeadCount = try uniform(c.headCountKV, "attention.head_count_kv") ?? headCount
        let keyLength = c.keyLength ?? c.embeddingLength / headCount
        let valueLength = c.valueLength ?? c.embeddingLength / headCount

        // rope: none or linear scaling
        var frequencyScale: Float = 1
        switch c.ropeScalingType {
        case nil, "none":
            break
        case "linear":
            if let factor = c.ropeScalingFactor, factor != 0 { frequencyScale = 1 / factor }
        case let other?:
            throw EngineError.unsupportedFeature(file: name, feature: "RoPE scaling '\(other)'")
        }
        if let window = c.slidingWindow, window > 0, architecture.name != "qwen2moe" {
            throw EngineError.unsupportedFeature(file: name, feature: "sliding-window attention")
        }

        // feed-forward widths
        let feedForward = try uniform(c.feedForwardLength, "feed_forward_length") ?? 0
        let experts = c.expertCount ?? 0
        var expertsPerToken = 0
        var expertWidth = 0
        if experts > 0 {
            let used = c.parameters.moeLayers.map { c.expertUsedCount?[$0] ?? 0 }
            expertsPerToken = try require(uniform(used, "expert_used_count"), "expert_used_count")
            if architecture.expertWidthFromExpertKey {
                expertWidth =
                    try uniform(c.expertFeedForwardLength, "expert_feed_forward_length")
                    ?? feedForward / max(expertsPerToken, 1)
            } else {
                expertWidth = feedForward
            }
        }

        // granite multipliers (llama.cpp treats 0 as "not set")
        var embeddingScale: Float = 1
        var attentionScale: Float?
        var residualScale: Float = 1
        var logitScale: Float = 1
        if architecture.usesGraniteMultipliers {
            logitScale = try require(c.logitScale, "logit_scale")
            if let value = c.embeddingScale, value != 0 { embeddingScale = value }
            if let value = c.attentionScale, value != 0 { attentionScale = value }
            if let value = c.residualScale, value != 0 { residualScale = value }
        }

        let vocabulary = c.vocabularySize ?? file.tensor(named: "token_embd.weight")?.dimension(1)
        self.init(
            architecture: c.architecture,
            vocabularySize: try require(vocabulary, "vocab_size"),
            embeddingLength: c.embeddingLength,
            blockCount: c.blockCount,
            contextLength: try require(c.contextLength, "context_length"),
            headCount: headCount,
            kvHeadCount: kvHeadCount,
            keyLength: keyLength,
            valueLength: valueLength,
            ropeDimensionCount: c.ropeDimensionCount ?? keyLength,
            ropeFrequencyBase: c.ropeFrequencyBase ?? 10_000,
            ropeFrequencyScale: frequencyScale,
            rmsNormEpsilon: try require(c.rmsNormEpsilon, "attention.layer_norm_rms_epsilon"),
            expertCount: experts,
            expertsPerToken: expertsPerToken,
            feedForwardLength: feedForward,
            expertFeedForwardLength: expertWidth,
            sharedFeedForwardLength: c.expertSharedFeedForwardLength ?? 0,
            embeddingScale: embeddingScale,
            attentionScale: attentionScale,
            residualScale: residualScale,
            logitScale: logitScale)
    }
}

extension ModelWeights {
    /// Reads every tensor the architecture needs, checking shapes against the hyper-parameters.
    init(loader: WeightLoader, hyperparameters hp: Hyperparameters, architecture: Architecture)
        throws
    {
        let e = hp.embeddingLength

        // embeddings and output head
        tokenEmbedding = try loader.matrix(
            "token_embd.weight", rows: hp.vocabularySize, columns: e)
        outputNorm = try loader.vector("output_norm.weight", length: e)
        if let output = try loader.optionalMatrix(
            "output.weight", rows: hp.vocabularySize, columns: e)
        {
            self.output = output
            tiedOutput = false
        } else if architecture.allowsTiedOutput {
            output = tokenEmbedding
            tiedOutput = true
        } else {
            throw EngineError.missingTensor(file: loader.fileName, name: "output.weight")
        }

        // blocks
        layers = try (0..<hp.blockCount).map { il in
            try LayerWeights(
                loader: loader, layer: il, hyperparameters: hp, architecture: architecture)
        }
    }
}

extension LayerWeights {
    init(
        loader: WeightLoader, layer il: Int, hyperparameters hp: Hyperparameters,
        architecture: Architecture
    ) throws {
        let e = hp.embeddingLength
        func name(_ suffix: String) -> String { "blk.\(il).\(suffix)" }

        // attention
        let queryNormLength = loader.vectorLength(name("attn_q_norm.weight"))
        let scope: QKNormScope
        switch queryNormLength {
        case nil: scope = .none
        case hp.keyLength?: scope = .perHead
        case hp.queryWidth?: scope = .wholeProjection
        case let length?:
            throw EngineError.tensorShape(
                file: loader.fileName, name: name("attn_q_norm.weight"),
                expected: [hp.keyLength], found: [length])
        }
        if architecture.requiresQKNorm && scope == .none {
            throw EngineError.missingTensor(file: loader.fileName, name: name("attn_q_norm.weight"))
        }
        let keyNormLength = scope == .perHead ? hp.keyLength : hp.keyWidth
        attention = AttentionWeights(
            norm: try loader.vector(name("attn_norm.weight"), length: e),
            query: try loader.matrix(name("attn_q.weight"), rows: hp.queryWidth, columns: e),
            key: try loader.matrix(name("attn_k.weight"), rows: hp.keyWidth, columns: e),
            value: try loader.matrix(name("attn_v.weight"), rows: hp.valueWidth, columns: e),
            output: try loader.matrix(
                name("attn_output.weight"), rows: e, columns: hp.headCount * hp.valueLength),
            queryBias: try loader.optionalVector(name("attn_q.bias"), length: hp.queryWidth),
            keyBias: try loader.optionalVector(name("attn_k.bias"), length: hp.keyWidth),
            valueBias: try loader.optionalVector(name("attn_v.bias"), length: hp.valueWidth),
            outputBias: try loader.optionalVector(name("attn_output.bias"), length: e),
            queryNorm: scope == .none
                ? nil : try loader.vector(name("attn_q_norm.weight"), length: queryNormLength!),
            keyNorm: scope == .none
                ? nil : try loader.vector(name("attn_k_norm.weight"), length: keyNormLength),
            qkNormScope: scope)

        // feed-forward: a router makes the block a mixture of experts
        feedForwardNorm = try loader.vector(name("ffn_norm.weight"), length: e)
        if loader.has(name("ffn_gate_inp.weight")) {
            let n = hp.expertCount
            let width = hp.expertFeedForwardLength
            var shared: SwiGLUWeights?
            var sharedGate: FloatBuffer?
            if let sharedTensor = loader.file.tensor(named: name("ffn_gate_shexp.weight")) {
                let sharedWidth = sharedTensor.dimension(1)
                shared = SwiGLUWeights(
                    gate: try loader.matrix(
                        name("ffn_gate_shexp.weight"), rows: sharedWidth, columns: e),
                    up: try loader.matrix(
                        name("ffn_up_shexp.weight"), rows: sharedWidth, columns: e),
                    down: try loader.matrix(
                        name("ffn_down_shexp.weight"), rows: e, columns: sharedWidth))
            }
            if architecture.sharedExpertGate == .sigmoid {
                guard shared != nil else {
                    throw EngineError.missingTensor(
                        file: loader.fileName, name: name("ffn_gate_shexp.weight"))
                }
                sharedGate = try loader.vector(name("ffn_gate_inp_shexp.weight"), length: e)
            }
            feedForward = .mixture(
                MixtureWeights(
                    router: try loader.matrix(name("ffn_gate_inp.weight"), rows: n, columns: e),
                    gate: try loader.experts(
                        name("ffn_gate_exps.weight"), count: n, rows: width, columns: e),
                    up: try loader.experts(
                        name("ffn_up_exps.weight"), count: n, rows: width, columns: e),
                    down: try loader.experts(
                        name("ffn_down_exps.weight"), count: n, rows: e, columns: width),
                    expertCount: n,
                    expertWidth: width,
                    shared: shared,
                    sharedGate: sharedGate))
        } else {
            let width = hp.feedForwardLength
            feedForward = .dense(
                SwiGLUWeights(
                    gate: try loader.matrix(name("ffn_gate.weight"), rows: width, columns: e),
                    up: try loader.matrix(name("ffn_up.weight"), rows: width, columns: e),
                    down: try loader.matrix(name("ffn_down.weight"), rows: e, columns: width)))
        }
    }
}
