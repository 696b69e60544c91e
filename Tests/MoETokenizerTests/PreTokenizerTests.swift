import Testing

@testable import MoETokenizer

/// Splits of the pre-tokenizers, against `tokenizers`' `Split(Regex(...), behavior="isolated")`
/// on the same strings (printed by a one-off script from Scripts/fixtures/tokenizer_fixtures.py's
/// regex lists).
@Suite struct PreTokenizerTests {
    static func split(_ name: String, _ text: String) throws -> [String] {
        let preTokenizer = try PreTokenizer(name: name)
        var scalars = ScalarText()
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { scalars.load($0) }
        var pieces: [Range<Int>] = []
        var scratch: [Range<Int>] = []
        preTokenizer.split(scalars, into: &pieces, scratch: &scratch)
        return pieces.map { piece in
            String(
                decoding: bytes[
                    scalars.byteOffsets[piece.lowerBound]..<scalars.byteOffsets[piece.upperBound]],
                as: UTF8.self)
        }
    }

    static let cases: [(String, String, [String])] = [
        (
            "gpt-2", "Hello world's 12345 tokens!\n\n  x",
            ["Hello", " world", "'s", " 12345", " tokens", "!", "\n\n ", " x"]
        ),
        ("gpt-2", "a  \u{1c} b", ["a", " ", " \u{1c}", " b"]),
        ("gpt-2", "'\u{17f} 'LL don'T", ["'", "\u{17f}", " '", "LL", " don", "'", "T"]),
        ("gpt-2", "x \t\n\r y   ", ["x", " \t\n\r", " y", "   "]),
        (
            "qwen2", "Hello world's 12345 tokens!\n\n  x",
            ["Hello", " world", "'s", " ", "1", "2", "3", "4", "5", " tokens", "!\n\n", " ", " x"]
        ),
        ("qwen2", "'\u{17f} 'LL don'T", ["'\u{17f}", " '", "LL", " don", "'T"]),
        (
            "qwen2", "\u{4f60}\u{597d}, \u{4e16}\u{754c}123 \u{e9}t\u{e9}\u{3000}\u{3002}",
            [
                "\u{4f60}\u{597d}", ",", " \u{4e16}\u{754c}", "1", "2", "3", " \u{e9}t\u{e9}",
                "\u{3000}", "\u{3002}",
            ]
        ),
        (
            "llama-bpe", "Hello world's 12345 tokens!\n\n  x",
            ["Hello", " world", "'s", " ", "123", "45", " tokens", "!\n\n", " ", " x"]
        ),
        (
            "deepseek-llm", "Hello world's 12345 tokens!\n\n  x",
            ["Hello", " world", "'", "s", " ", "12345", " tokens", "!", "\n", "\n", " ", " x"]
        ),
        ("deepseek-llm", "x \t\n\r y   ", ["x", " \t", "\n", "\r", " y", "   "]),
        (
            "deepseek-llm", "\u{4f60}\u{597d}, \u{4e16}\u{754c}123 \u{e9}t\u{e9}\u{3000}\u{3002}",
            [
                "\u{4f60}\u{597d}", ",", " ", "\u{4e16}\u{754c}", "123", " \u{e9}", "t", "\u{e9}",
                "\u{3000}\u{3002}",
            ]
        ),
        (
            "deepseek-coder", "Hello world's 12345 tokens!\n\n  x",
            [
                "Hello", " world", "'", "s", " ", "1", "2", "3", "4", "5", " tokens", "!", "\n",
                "\n", " ", " x",
            ]
        ),
    ]

    @Test(arguments: cases)
    func splitsLikeTheReference(name: String, text: String, expected: [String]) throws {
        #expect(try Self.split(name, text) == expected)
    }

    @Test func aliasesSelectTheSameRegex() throws {
        let text = "It's 2024:  Hello\n\nWorld 12345"
        #expect(try Self.split("olmo", text) == Self.split("gpt-2", text))
        #expect(try Self.split("gpt-neox", text) == Self.split("gpt-2", text))
        #expect(try Self.split("deepseek-r1-qwen", text) == Self.split("qwen2", text))
        #expect(try Self.split("llama3", text) == Self.split("llama-bpe", text))
    }

    @Test func unknownNameIsUnsupported() {
        #expect(throws: TokenizerError.self) { try PreTokenizer(name: "tekken") }
        do {
            _ = try PreTokenizer(name: "tekken")
        } catch {
            guard case .unsupported(let key, let value, let supported) = error else {
                Issue.record("expected unsupported, got \(error)")
                return
            }
            #expect(key == "tokenizer.ggml.pre")
            #expect(value == "tekken")
            #expect(supported.contains("qwen2"))
            #expect(error.description.contains("'tekken'"))
        }
    }

    @Test func missingNameIsLlamaCppsDefault() throws {
        #expect(try PreTokenizer(name: nil).name == "default")
    }
}
