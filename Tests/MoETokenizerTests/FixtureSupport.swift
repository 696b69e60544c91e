import Foundation
import MoEGGUF
import Testing

@testable import MoETokenizer

/// The committed tokenizer fixtures (written by Scripts/fixtures/tokenizer_fixtures.py).
enum TokenizerFixtures {
    static let names = [
        "gpt2", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder", "refact", "default",
        "spm",
    ]

    static var directory: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("tokenizer")
    }

    /// Reference results of one vocabulary.
    struct Model: Decodable {
        struct Case: Decodable {
            var ids: [Int32]
            var roundtrip: Bool
        }
        struct Decode: Decodable {
            var ids: [Int32]
            var text: String
        }
        var bos: Int32
        var eos: Int32
        var add_bos: Bool
        var vocab_size: Int
        var reference: String
        var cases: [Case]
        var decodes: [Decode]
        /// ids of all strings joined by `Goldens.join` into one text
        var joined: [Int32]
    }

    struct Goldens: Decodable {
        var strings: [String]
        var join: String
        var models: [String: Model]
    }

    static let goldens: Goldens = {
        let url = directory.appendingPathComponent("goldens.json")
        let data = try! Data(contentsOf: url)
        return try! JSONDecoder().decode(Goldens.self, from: data)
    }()

    /// The tokenizer of fixture `name`, read from its GGUF file.
    static func tokenizer(_ name: String) throws -> Tokenizer {
        let file = try GGUFFile(url: directory.appendingPathComponent("\(name).gguf"))
        return try Tokenizer(gguf: file)
    }
}

/// A readable line for a mismatch: the string, escaped, and both id lists with token texts.
func describeMismatch(
    _ text: String, expected: [Int32], actual: [Int32], tokenizer: Tokenizer
) -> String {
    let common = min(expected.count, actual.count)
    let firstDifference = (0..<common).first { expected[$0] != actual[$0] } ?? common
    func show(_ ids: [Int32]) -> String {
        ids.map { "\($0)'\(tokenizer.readablePiece($0))'" }.joined(separator: " ")
    }
    return """
        text \(text.debugDescription) (\(text.utf8.count) bytes)
          first difference at token \(firstDifference)
          expected \(expected.count): \(show(expected))
          actual   \(actual.count): \(show(actual))
        """
}
