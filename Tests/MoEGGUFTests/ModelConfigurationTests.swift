import Foundation
import MoEGGUF
import Testing

/// ModelConfiguration and ParameterCounts on a tiny qwen2moe file written by gguf-py, against
/// an independent count over gguf-py's reader (Scripts/fixtures/gguf_tiny_moe.py).
@Suite struct ModelConfigurationTests {
    struct Expected: Decodable {
        let architecture: String
        let name: String
        let block_count: Int
        let context_length: Int
        let embedding_length: Int
        let feed_forward_length: Int
        let head_count: Int
        let head_count_kv: Int
        let key_length: Int
        let expert_count: Int
        let expert_used_count: Int
        let expert_feed_forward_length: Int
        let expert_shared_feed_forward_length: Int
        let rms_epsilon_bits: UInt32
        let rope_freq_base_bits: UInt32
        let tokenizer_model: String
        let vocabulary_size: Int
        let total: Int
        let total_bytes: Int
        let embedding: Int
        let moe_layers: [Int]
        let routed_expert_parameters: [Int]
        let routed_expert_bytes: [Int]
        let routed: Int
        let shared: Int
        let always_on: Int
        let active: Int
        let active_bytes: Int
    }

    static let fixture = "moe/tiny_qwen2moe.gguf"

    @Test("hyper-parameters and parameter counts agree with gguf-py")
    func tinyQwen2MoE() throws {
        let file = try GGUFFile(path: Fixtures.path(Self.fixture))
        let expected = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: Fixtures.url("moe/tiny_qwen2moe.json")))
        let config = try ModelConfiguration(file: file)
        let layers = expected.block_count
        #expect(config.architecture == expected.architecture)
        #expect(config.name == expected.name)
        #expect(config.blockCount == layers)
        #expect(config.contextLength == expected.context_length)
        #expect(config.embeddingLength == expected.embedding_length)
        #expect(
            config.feedForwardLength
                == Array(repeating: expected.feed_forward_length, count: layers))
        #expect(config.headCount == Array(repeating: expected.head_count, count: layers))
        #expect(config.headCountKV == Array(repeating: expected.head_count_kv, count: layers))
        #expect(config.keyLength == expected.key_length)
        #expect(config.headDimension() == expected.key_length)
        #expect(config.expertCount == expected.expert_count)
        #expect(
            config.expertUsedCount == Array(repeating: expected.expert_used_count, count: layers))
        #expect(config.expertsPerToken == expected.expert_used_count)
        #expect(
            config.expertFeedForwardLength
                == Array(repeating: expected.expert_feed_forward_length, count: layers))
        #expect(config.expertSharedFeedForwardLength == expected.expert_shared_feed_forward_length)
        #expect(config.rmsNormEpsilon?.bitPattern == expected.rms_epsilon_bits)
        #expect(config.ropeFrequencyBase?.bitPattern == expected.rope_freq_base_bits)
        #expect(config.tokenizerModel == expected.tokenizer_model)
        #expect(config.vocabularySize == expected.vocabulary_size)
        #expect(config.isMixtureOfExperts)

        let counts = config.parameters
        #expect(counts.total == expected.total)
        #expect(counts.totalBytes == expected.total_bytes)
        #expect(counts.embedding == expected.embedding)
        #expect(counts.moeLayers == expected.moe_layers)
        #expect(counts.routedExpertParameters == expected.routed_expert_parameters)
        #expect(counts.routedExpertBytes == expected.routed_expert_bytes)
        #expect(counts.routed == expected.routed)
        #expect(counts.shared == expected.shared)
        #expect(counts.alwaysOn == expected.always_on)
        #expect(counts.active == expected.active)
        #expect(counts.activeBytes == expected.active_bytes)
        #expect(counts.totalBytes == file.tensors.map(\.byteCount).reduce(0, +))
    }

    @Test("every table key is read from its {arch}. key")
    func keyTableIsComplete() {
        let keys = ModelConfiguration.keyTable.map {
            ModelConfiguration.fullKey($0, architecture: "x")
        }
        #expect(Set(keys).count == keys.count)
        for required in [
            "x.context_length", "x.expert_count", "x.expert_used_count", "x.expert_shared_count",
            "x.expert_feed_forward_length", "x.expert_shared_feed_forward_length",
            "x.expert_weights_scale",
            "x.expert_weights_norm", "x.expert_gating_func", "x.logit_scale", "x.residual_scale",
            "x.embedding_scale", "x.attention.scale", "x.rope.freq_base", "x.rope.dimension_count",
            "x.attention.key_length", "x.attention.value_length",
            "x.attention.layer_norm_rms_epsilon",
            "x.vocab_size", "tokenizer.ggml.model",
        ] {
            #expect(keys.contains(required), "\(required)")
        }
    }
}
