import Foundation
import MoEEngine

/// What `Scripts/fixtures/engine_make_fixtures.py` recorded from transformers for one tiny model.
struct EngineFixture: Decodable {
    /// One MoE layer's routing at every position of prompt + continuation.
    struct LayerRouting: Decodable {
        var layer: Int
        /// [positions][experts]
        var logits: [[Float]]
        /// [positions][experts]
        var probabilities: [[Float]]
        /// [positions][k], best first.
        var experts: [[Int32]]
        /// [positions][k]
        var weights: [[Float]]
    }

    var architecture: String
    var type: String
    var file: String
    var reference: String
    var prompt: [Int32]
    var continuation: [Int32]
    /// Parameters transformers counts: every distinct one, and those one token runs through.
    var totalParameters: Int
    var activeParameters: Int
    var vocabSize: Int
    var expertCount: Int
    var expertsPerToken: Int
    /// [prompt positions][vocabulary]
    var logits: [[Float]]
    var routing: [LayerRouting]

    /// The fixture `<name>-<type>.json` and the URL of its GGUF file.
    static func load(_ name: String, type: String) throws -> (EngineFixture, URL) {
        let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("engine")
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name)-\(type).json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let fixture = try decoder.decode(EngineFixture.self, from: data)
        return (fixture, directory.appendingPathComponent(fixture.file))
    }

    /// The five architectures the fixtures cover, by fixture name.
    static let names = ["qwen3moe", "qwen2moe", "olmoe", "mixtral", "granitemoe"]
}

/// The largest absolute difference between two equally long float sequences.
func maximumDifference<A: Collection<Float>, B: Collection<Float>>(_ a: A, _ b: B) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
