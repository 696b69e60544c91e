import Testing

@testable import MoETokenizer

/// Construction errors, special tokens, UTF-8 repair and the streaming decoder.
@Suite struct TokenizerTests {
    /// A tiny byte-level vocabulary: ids 0...255 the byte characters (in byte order), 256 "ab",
    /// 257 <|endoftext|>, 258 <|im_end|> (control), 259 <tool> (user-defined).
    static func tinyBytePair(pre: String? = "qwen2", merges: [String] = ["a b"])
        -> TokenizerVocabulary
    {
        var tokens = ByteAlphabet.scalarOfByte.map { String(Unicode.Scalar($0)!) }
        tokens += ["ab", "<|endoftext|>", "<|im_end|>", "<tool>"]
        let types =
            [TokenType](repeating: .normal, count: 257) + [.control, .control, .userDefined]
        return TokenizerVocabulary(
            model: "gpt2", pre: pre, tokens: tokens, tokenTypes: types, merges: merges,
            bosID: 257, eosID: 257)
    }

    @Test func unknownModelIsUnsupported() {
        var vocabulary = Self.tinyBytePair()
        vocabulary.model = "bert"
        #expect(
            throws: TokenizerError.unsupported(
                key: "tokenizer.ggml.model", value: "bert", supported: ["gpt2", "llama"])
        ) {
            try Tokenizer(vocabulary: vocabulary)
        }
    }

    static let badVocabularies: [(String, TokenizerVocabulary, String)] = [
        ("merge without a space", tinyBytePair(merges: ["a b", "ab"]), "tokenizer.ggml.merges[1]"),
        (
            "type count",
            TokenizerVocabulary(model: "gpt2", tokens: ["a"], tokenTypes: [.normal, .normal]),
            "tokenizer.ggml.token_type"
        ),
        ("no tokens", TokenizerVocabulary(model: "llama", tokens: []), "tokenizer.ggml.tokens"),
        (
            "BOS asked for but absent",
            TokenizerVocabulary(model: "llama", tokens: ["a"], bosID: 5, addBOS: true),
            "tokenizer.ggml.bos_token_id"
        ),
        ("unknown pre", tinyBytePair(pre: "tekken"), "tekken"),
    ]

    @Test(arguments: badVocabularies)
    func badVocabularyIsRefused(what: String, vocabulary: TokenizerVocabulary, mentions: String) {
        do {
            _ = try Tokenizer(vocabulary: vocabulary)
            Issue.record("\(what): accepted")
        } catch {
            #expect(error.description.contains(mentions), "\(what): \(error.description)")
        }
    }

    @Test func specialTokensAreMatchedWholeAndNeverSplit() throws {
        let tokenizer = try Tokenizer(vocabulary: Self.tinyBytePair())
        let ids = tokenizer.encode("ab<|im_end|><tool>ab", addSpecial: false)
        #expect(ids == [256, 258, 259, 256])
        // control tokens are plain text when not parsed; user-defined ones still match
        let plain = tokenizer.encode("<|im_end|><tool>", addSpecial: false, parseSpecial: false)
        #expect(!plain.contains(258))
        #expect(plain.last == 259)
        #expect(tokenizer.decode(plain) == "<|im_end|><tool>")
    }

    @Test func endOfGenerationIncludesKnownTexts() throws {
        let tokenizer = try Tokenizer(vocabulary: Self.tinyBytePair())
        #expect(tokenizer.isEndOfGeneration(257))
        #expect(tokenizer.isEndOfGeneration(258))  // <|im_end|> by its text
        #expect(!tokenizer.isEndOfGeneration(256))
        #expect(tokenizer.decode([256, 258]) == "ab")
        #expect(tokenizer.decode([256, 258], renderSpecial: true) == "ab<|im_end|>")
    }

    @Test func longPiecesDoNotStall() throws {
        // one 200 000-byte piece for the GPT-2 regex: the merge queue keeps this O(n log n)
        let tokenizer = try Tokenizer(vocabulary: Self.tinyBytePair(pre: "gpt-2"))
        let text = String(repeating: "ab", count: 100_000)
        let ids = tokenizer.encode(text, addSpecial: false)
        #expect(ids.count == 100_000)
        #expect(tokenizer.decode(ids) == text)
        let spaces = String(repeating: " ", count: 100_000) + "x"
        #expect(tokenizer.decode(tokenizer.encode(spaces, addSpecial: false)) == spaces)
    }

    /// SentencePiece merges each word alone only when no piece has a "▁" after another
    /// character; a piece like "a▁" makes the fragment merge as a whole.
    static let trailingSpaceCases: [(Float, [Int32])] = [(-5, [5, 5]), (-1, [3, 6, 4])]

    @Test(arguments: trailingSpaceCases)
    func sentencePieceWordsAreIndependentOnlyWhenPiecesAllowIt(
        scoreOfATrailingSpace: Float, expected: [Int32]
    ) throws {
        let tokens = ["<unk>", "<s>", "</s>", "\u{2581}", "a", "\u{2581}a", "a\u{2581}"]
        let tokenizer = try Tokenizer(
            vocabulary: TokenizerVocabulary(
                model: "llama", tokens: tokens,
                tokenTypes: [.unknown, .control, .control, .normal, .normal, .normal, .normal],
                scores: [0, 0, 0, -10, -10, -2, scoreOfATrailingSpace]))
        #expect(tokenizer.sentencePiece?.splitsAtWords == false)
        #expect(tokenizer.encode("a a", addSpecial: false) == expected)
        let withoutTrailingSpacePiece = try Tokenizer(
            vocabulary: TokenizerVocabulary(
                model: "llama", tokens: Array(tokens.prefix(6)),
                tokenTypes: [.unknown, .control, .control, .normal, .normal, .normal],
                scores: [0, 0, 0, -10, -10, -2]))
        #expect(withoutTrailingSpacePiece.sentencePiece?.splitsAtWords == true)
        #expect(withoutTrailingSpacePiece.encode("a a", addSpecial: false) == [5, 5])
    }

    @Test func readablePieceEscapes() throws {
        let tokenizer = try Tokenizer(vocabulary: Self.tinyBytePair())
        // token 10 is byte 0x0A's alphabet character "Ċ"
        #expect(tokenizer.readablePiece(10) == "\\n")
        #expect(tokenizer.readablePiece(0xC3) == "<0xC3>")
        #expect(tokenizer.readablePiece(256) == "ab")
        #expect(tokenizer.readablePiece(9999) == "<invalid id 9999>")
    }

    // MARK: UTF-8 repair

    static let repairCases: [([[UInt8]], String)] = [
        ([[0xF0], [0x9F], [0x98], [0x80]], "\u{1F600}"),
        ([[0xF0, 0x9F], [0x98, 0x80, 0x41]], "\u{1F600}A"),
        ([[0xF0, 0x9F, 0x98]], "\u{FFFD}"),
        ([[0xF0, 0x9F], [0x41]], "\u{FFFD}A"),
        ([[0xC0, 0x80]], "\u{FFFD}\u{FFFD}"),
        ([[0xED, 0xA0, 0x80]], "\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([[0xF4, 0x90, 0x80, 0x80]], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([[0xE2, 0x82], [0xAC, 0xE2], [0x82]], "\u{20AC}\u{FFFD}"),
        ([[0xFF], [0x80], [0x41]], "\u{FFFD}\u{FFFD}A"),
        ([[]], ""),
    ]

    @Test(arguments: repairCases)
    func utf8RepairMatchesOneShotDecoding(chunks: [[UInt8]], expected: String) {
        var repair = UTF8Repair()
        var text = ""
        for chunk in chunks { repair.decode(chunk, into: &text) }
        repair.finish(into: &text)
        #expect(text == expected)
        // Swift's own decoder applies the same replacement policy to the whole sequence
        #expect(text == String(decoding: chunks.flatMap { $0 }, as: UTF8.self))
    }

    @Test func streamingDecoderHoldsBackSplitCharacters() throws {
        let tokenizer = try Tokenizer(vocabulary: Self.tinyBytePair())
        // "é😀" as single-byte tokens: C3 A9 F0 9F 98 80
        let bytes: [UInt8] = [0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80]
        var decoder = tokenizer.makeStreamingDecoder()
        let pieces = bytes.map { decoder.append(Int32(tokenizer.byteTokenID($0))) }
        #expect(pieces == ["", "\u{e9}", "", "", "", "\u{1F600}"])
        #expect(decoder.finish() == "")
    }
}

extension Tokenizer {
    /// The id of the single-byte token of `byte` (byte-level vocabularies).
    fileprivate func byteTokenID(_ byte: UInt8) -> Int32 { bytePair!.byteTokenIDs[Int(byte)] }
}
