import MoEGGUF
import Testing

@testable import MoETokenizer

/// Reading `tokenizer.ggml.*` keys: defaults, integer scores, and bad files that must give a
/// typed error naming the file and key instead of trapping.
@Suite struct GGUFLoadingTests {
    static let byteTokens = ByteAlphabet.scalarOfByte.map { String(Unicode.Scalar($0)!) }

    /// A GGUF file holding only tokenizer keys; `change` edits them before writing.
    static func file(_ change: (inout [String: GGUFValue]) -> Void = { _ in }) throws -> GGUFFile {
        var keys: [String: GGUFValue] = [
            "general.architecture": .string("llama"),
            "tokenizer.ggml.model": .string("gpt2"),
            "tokenizer.ggml.pre": .string("qwen2"),
            "tokenizer.ggml.tokens": .array(GGUFArray(strings: byteTokens + ["ab"])),
            "tokenizer.ggml.merges": .array(GGUFArray(strings: ["a b"])),
        ]
        change(&keys)
        var writer = GGUFWriter()
        for key in keys.keys.sorted() { writer.add(key, keys[key]!) }
        return try GGUFFile(bytes: writer.bytes(), path: "test.gguf")
    }

    @Test func minimalFileUsesLlamaCppDefaults() throws {
        let tokenizer = try Tokenizer(gguf: Self.file())
        #expect(tokenizer.kind == .bytePair)
        #expect(tokenizer.preTokenizerName == "qwen2")
        #expect(tokenizer.bosID == 11)  // llama.cpp's gpt2 default
        #expect(!tokenizer.addsBOS)
        #expect(tokenizer.encode("aab") == [97, 256])  // ids are byte values here
    }

    @Test func integerScoresAreAccepted() throws {
        let tokens = ["<unk>", "<s>", "</s>", "\u{2581}", "a", "\u{2581}a"]
        let file = try Self.file { keys in
            keys["tokenizer.ggml.model"] = .string("llama")
            keys["tokenizer.ggml.tokens"] = .array(GGUFArray(strings: tokens))
            keys["tokenizer.ggml.scores"] = .array(GGUFArray(int32: [0, 0, 0, -1, -2, -3]))
            keys["tokenizer.ggml.token_type"] = .array(GGUFArray(int32: [2, 3, 3, 1, 1, 1]))
        }
        let tokenizer = try Tokenizer(gguf: file)
        #expect(tokenizer.encode("a a") == [1, 5, 5])
        #expect(tokenizer.decode([1, 5, 5]) == "a a")
    }

    static let badFiles: [(String, @Sendable (inout [String: GGUFValue]) -> Void, String)] = [
        ("no model key", { $0["tokenizer.ggml.model"] = nil }, "tokenizer.ggml.model"),
        ("unknown model", { $0["tokenizer.ggml.model"] = .string("bert") }, "'bert'"),
        ("unknown pre", { $0["tokenizer.ggml.pre"] = .string("tekken") }, "'tekken'"),
        (
            "tokens not strings", { $0["tokenizer.ggml.tokens"] = .array(GGUFArray(int32: [1])) },
            "tokenizer.ggml.tokens"
        ),
        ("model not a string", { $0["tokenizer.ggml.model"] = .uint32(2) }, "tokenizer.ggml.model"),
        (
            "token type out of range",
            {
                $0["tokenizer.ggml.token_type"] = .array(
                    GGUFArray(int32: [Int32](repeating: 1, count: 256) + [9]))
            },
            "tokenizer.ggml.token_type[256]"
        ),
        (
            "bad merge", { $0["tokenizer.ggml.merges"] = .array(GGUFArray(strings: ["ab"])) },
            "tokenizer.ggml.merges[0]"
        ),
        ("add_bos not a bool", { $0["tokenizer.ggml.add_bos_token"] = .uint8(1) }, "add_bos_token"),
    ]

    @Test(arguments: badFiles)
    func badFileGivesATypedError(
        what: String, change: @Sendable (inout [String: GGUFValue]) -> Void, mentions: String
    ) throws {
        let file = try Self.file(change)
        do {
            _ = try Tokenizer(gguf: file)
            Issue.record("\(what): accepted")
        } catch {
            let message = "\(error)"
            #expect(message.contains(mentions), "\(what): \(message)")
            #expect(message.contains("test.gguf"), "\(what): no file name in \(message)")
        }
    }
}
