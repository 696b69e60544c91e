import Foundation
import MoEEngine
import MoEGGUF
import MoERouting
import Testing

/// Loading: what a model reports about itself, and typed errors for models the engine cannot run.
@Suite("Model loading")
struct ModelLoadingTests {
    /// The qwen3moe F32 fixture rebuilt in memory with `change` applied to its keys and tensors.
    static func rewritten(
        _ name: String = "qwen3moe",
        change: (inout [(String, GGUFValue)], inout [GGUFTensorInfo]) -> Void
    ) throws -> GGUFFile {
        let (_, url) = try EngineFixture.load(name, type: "f32")
        let file = try GGUFFile(url: url)
        var keys = file.metadata.keys.map { ($0, file.metadata[$0]!) }
        var tensors = file.tensors
        change(&keys, &tensors)
        var writer = GGUFWriter()
        for (key, value) in keys { writer.add(key, value) }
        for tensor in tensors {
            let original = file.tensor(named: tensor.name)!
            writer.addTensor(
                tensor.name, type: tensor.type, shape: tensor.shape,
                bytes: Array(file.bytes(of: original)))
        }
        return try GGUFFile(bytes: writer.bytes(), path: "\(name)-rewritten.gguf")
    }

    @Test("an unsupported architecture names the supported ones")
    func unsupportedArchitecture() throws {
        let file = try Self.rewritten { keys, _ in
            keys = keys.map { $0.0 == "general.architecture" ? ($0.0, .string("gpt2")) : $0 }
        }
        #expect(
            throws: EngineError.unsupportedArchitecture(
                file: "qwen3moe-rewritten.gguf", found: "gpt2",
                supported: ["qwen3moe", "qwen2moe", "olmoe", "llama", "granitemoe"])
        ) { try Model(file: file) }
    }

    @Test(
        "a missing tensor is named",
        arguments: ["blk.1.attn_k.weight", "blk.0.attn_q_norm.weight", "output_norm.weight"])
    func missingTensor(name: String) throws {
        let file = try Self.rewritten { _, tensors in tensors.removeAll { $0.name == name } }
        #expect(throws: EngineError.missingTensor(file: "qwen3moe-rewritten.gguf", name: name)) {
            try Model(file: file)
        }
    }

    @Test("a tensor whose shape contradicts the metadata is refused with both shapes")
    func wrongShape() throws {
        // key_length 8 instead of 16: attn_q [32 → 4 × 16] no longer fits
        let file = try Self.rewritten { keys, _ in
            keys = keys.map {
                $0.0.hasSuffix(".attention.key_length") || $0.0.hasSuffix(".attention.value_length")
                    ? ($0.0, .uint32(8)) : $0
            }
        }
        do {
            _ = try Model(file: file)
            Issue.record("a model with contradicting shapes loaded")
        } catch let error as EngineError {
            guard case .tensorShape(_, let name, let expected, let found) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            print("refused: \(error)")
            #expect(name.hasPrefix("blk.0."))
            #expect(expected != found)
        }
    }

    @Test("granitemoe without logit_scale is refused")
    func graniteNeedsLogitScale() throws {
        let file = try Self.rewritten("granitemoe") { keys, _ in
            keys.removeAll { $0.0 == "granitemoe.logit_scale" }
        }
        #expect(
            throws: EngineError.hyperparameter(
                file: "granitemoe-rewritten.gguf", key: "granitemoe.logit_scale", reason: "missing")
        ) { try Model(file: file) }
    }

    @Test("YaRN RoPE scaling is refused by name, not run wrongly")
    func yarnRefused() throws {
        let file = try Self.rewritten { keys, _ in
            keys.append(("qwen3moe.rope.scaling.type", .string("yarn")))
            keys.append(("qwen3moe.rope.scaling.factor", .float32(4)))
        }
        #expect(
            throws: EngineError.unsupportedFeature(
                file: "qwen3moe-rewritten.gguf", feature: "RoPE scaling 'yarn'")
        ) { try Model(file: file) }
    }

    @Test("the description carries the routing definition, counts and a stable fingerprint")
    func description() throws {
        let (_, url) = try EngineFixture.load("qwen2moe", type: "f32")
        let model = try Model(url: url)
        let again = try Model(url: url)
        let (_, f16URL) = try EngineFixture.load("qwen2moe", type: "f16")
        let f16 = try Model(url: f16URL)
        let description = model.description
        #expect(description.architecture == "qwen2moe")
        #expect(description.moeLayers == [0, 1])
        #expect(description.expertCount == 4)
        #expect(description.expertsPerToken == 2)
        #expect(description.sharedExpertCount == 1)
        #expect(description.gating == .softmax)
        #expect(!description.normalizesTopK)
        #expect(description.fingerprint.count == 16)
        #expect(description.fingerprint == again.description.fingerprint)
        #expect(description.fingerprint != f16.description.fingerprint)
        // one expert: gate and up [32 × 32] and down [32 × 32]
        #expect(description.parametersPerExpert == 3 * 32 * 32)
        #expect(
            description.activeParameters == description.totalParameters - 2 * 2 * 3 * 32 * 32)
    }

    @Test("a prompt longer than the context and tokens outside the vocabulary are refused")
    func sessionLimits() throws {
        let (fixture, url) = try EngineFixture.load("qwen3moe", type: "f32")
        let model = try Model(url: url)
        let session = try InferenceSession(model: model, contextLength: 8)
        #expect(throws: EngineError.promptTooLong(tokens: 20, contextLength: 8)) {
            try session.evaluate(fixture.prompt, logits: .last, captureRouting: false)
        }
        #expect(throws: EngineError.tokenOutOfRange(token: 300, vocabularySize: 300)) {
            try session.evaluate([1, 300], logits: .last, captureRouting: false)
        }
        #expect(throws: EngineError.emptyPrompt) {
            try session.evaluate([], logits: .last, captureRouting: false)
        }
    }
}
