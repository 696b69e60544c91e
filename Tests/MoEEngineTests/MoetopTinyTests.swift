import Foundation
import MoEEngine
import Testing

/// The shipped moetop-tiny against transformers (`Training/reference.py`: a float32
/// Qwen3MoeForCausalLM holding the weights read back from the GGUF, so both sides start from
/// the same F16 values).
///
/// Tolerances: token ids and top-k expert sets identical; top-k weights within 1e-4; the greedy
/// continuation identical, except that after a step whose reference logit margin is below
/// 1e-3 the two may part (a near-tie that float summation order can flip; none is expected).
@Suite("moetop-tiny against transformers")
struct MoetopTinyTests {
    struct Reference: Decodable {
        struct Layer: Decodable {
            /// [prompt tokens][k], best first.
            var experts: [[Int32]]
            /// [prompt tokens][k]
            var weights: [[Float]]
        }
        struct Case: Decodable {
            var domain: String
            var prompt: String
            var prompt_ids: [Int32]
            var greedy_ids: [Int32]
            var greedy_margins: [Float]
            var router_topk_per_layer: [Layer]
        }
        var experts: Int
        var top_k: Int
        var layers: Int
        var cases: [Case]
    }

    /// The model as shipped: `Sources/moetop/Resources/moetop-tiny.gguf`.
    static let modelURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/moetop/Resources/moetop-tiny.gguf")

    static func reference() throws -> Reference {
        let url = try #require(
            Bundle.module.url(forResource: "Fixtures", withExtension: nil)?
                .appendingPathComponent("moetop_tiny_reference.json"))
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    @Test("tokens, prompt routing and greedy continuation equal transformers'")
    func matchesTransformers() throws {
        let reference = try Self.reference()
        let generator = try Generator(url: Self.modelURL, threads: 2)
        #expect(reference.cases.count == 3)
        for item in reference.cases {
            // the tokenizer: the ids of HF tokenizers
            let ids = generator.tokenizer.encode(item.prompt, addSpecial: false)
            #expect(ids == item.prompt_ids, "\(item.domain): tokenization")

            let options = GenerationOptions(
                maxTokens: item.greedy_ids.count, sampler: .greedy, stopsAtEndOfGeneration: false)
            let steps = Array(try generator.generate(prompt: item.prompt_ids, options: options))
            let prompt = steps.filter { $0.phase == .prefill }
            let decoded = steps.filter { $0.phase == .decode }.map(\.tokenID)

            // routing of every prompt token at every layer
            #expect(prompt.count == item.prompt_ids.count)
            var largestWeightDifference: Float = 0
            for (layer, expected) in item.router_topk_per_layer.enumerated() {
                for (position, step) in prompt.enumerated() {
                    let record = try #require(step.records.first { $0.layer == layer })
                    #expect(
                        record.experts == expected.experts[position],
                        "\(item.domain) layer \(layer) token \(position)")
                    for (got, want) in zip(record.weights, expected.weights[position]) {
                        largestWeightDifference = max(largestWeightDifference, abs(got - want))
                    }
                }
            }
            #expect(largestWeightDifference <= 1e-4, "\(item.domain): \(largestWeightDifference)")

            // the greedy continuation, up to the first near-tie (if any)
            let comparable =
                item.greedy_margins.firstIndex { $0 < 1e-3 }.map { $0 + 1 }
                ?? item.greedy_ids.count
            #expect(comparable >= item.greedy_ids.count / 2, "\(item.domain): near-ties")
            #expect(
                Array(decoded.prefix(comparable)) == Array(item.greedy_ids.prefix(comparable)),
                "\(item.domain): greedy")
        }
    }

    @Test("the shipped file has moetop-tiny's shape")
    func shape() throws {
        let reference = try Self.reference()
        let model = try Generator(url: Self.modelURL, threads: 1).model
        #expect(model.hyperparameters.expertCount == reference.experts)
        #expect(model.hyperparameters.expertsPerToken == reference.top_k)
        #expect(model.hyperparameters.blockCount == reference.layers)
    }
}
