// The tokenizer of a model: text to token ids and back, rebuilt from GGUF metadata.
//
// Supported: byte-level BPE (`gpt2`, with the pre-tokenizers of PreTokenizer.swift) and
// SentencePiece-style BPE (`llama`). The procedure follows llama.cpp (reference digest §4);
// the golden tests compare it with the `tokenizers` and `sentencepiece` libraries.

/// A model's tokenizer. Immutable and safe to share between threads.
public final class Tokenizer: Sendable {
    /// The tokenization algorithm (`tokenizer.ggml.model`).
    public enum Kind: String, Sendable, CaseIterable {
        /// Byte-level BPE with merges (`gpt2`).
        case bytePair = "gpt2"
        /// SentencePiece-style BPE with scores and byte fallback (`llama`).
        case sentencePiece = "llama"
    }

    public let kind: Kind
    /// The `tokenizer.ggml.pre` value in use (byte-level BPE only).
    public let preTokenizerName: String?
    /// Token text by id, as stored in the file.
    public let tokenTexts: [String]
    /// Token type by id (end-of-generation tokens are forced to `.control`, as in llama.cpp).
    public let tokenTypes: [TokenType]
    public let bosID: Int32?
    public let eosID: Int32?
    /// Whether `encode(_:addSpecial: true)` puts BOS first / EOS last.
    public let addsBOS: Bool
    public let addsEOS: Bool
    /// Ids that end generation: eos, eot, eom and tokens known by their text (`<|im_end|>` ...).
    public let endOfGenerationIDs: Set<Int32>
    /// SentencePiece: a space is put before the first fragment (and removed when decoding).
    public let addsSpacePrefix: Bool

    /// [vocabularySize] the bytes each token decodes to
    let tokenBytes: [[UInt8]]
    let specials: SpecialTokenMatcher
    let preTokenizer: PreTokenizer?
    let bytePair: ByteLevelBPE?
    let sentencePiece: SentencePieceBPE?

    /// Number of tokens.
    public var vocabularySize: Int { tokenTexts.count }

    /// Texts that mark end-of-generation tokens, from llama.cpp's auto-detection list.
    static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>",
        "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>",
        "<\u{FF5C}end\u{2581}of\u{2581}sentence\u{FF5C}>",
    ]

    /// Builds a tokenizer from a vocabulary, checking it completely.
    ///
    /// Defaults for absent keys follow llama.cpp: `llama` → bos 1, eos 2, unk 0, add BOS, space
    /// prefix; `gpt2` → bos = eos = 11, BOS only for Llama-3-like pre-tokenizers.
    public init(vocabulary: TokenizerVocabulary) throws(TokenizerError) {
        // step 1: model kind and pre-tokenizer
        guard let kind = Kind(rawValue: vocabulary.model) else {
            throw .unsupported(
                key: "tokenizer.ggml.model", value: vocabulary.model,
                supported: Kind.allCases.map(\.rawValue))
        }
        self.kind = kind
        let count = vocabulary.tokens.count
        guard count > 0 else {
            throw .invalid(key: "tokenizer.ggml.tokens", index: nil, reason: "no tokens")
        }
        guard count < Int(Int32.max) else {
            throw .invalid(key: "tokenizer.ggml.tokens", index: nil, reason: "\(count) tokens")
        }

        // step 2: token types (missing = all normal) and scores
        var types = vocabulary.tokenTypes
        if types.isEmpty { types = [TokenType](repeating: .normal, count: count) }
        guard types.count == count else {
            throw .invalid(
                key: "tokenizer.ggml.token_type", index: nil,
                reason: "\(types.count) types for \(count) tokens")
        }
        guard vocabulary.scores.isEmpty || vocabulary.scores.count == count else {
            throw .invalid(
                key: "tokenizer.ggml.scores", index: nil,
                reason: "\(vocabulary.scores.count) scores for \(count) tokens")
        }

        // step 3: special ids (out-of-range ids are ignored, as llama.cpp does)
        func valid(_ id: Int32?) -> Int32? {
            guard let id, id >= 0, Int(id) < count else { return nil }
            return id
        }
        var textToID: [String: Int32] = [:]
        textToID.reserveCapacity(count)
        for (id, text) in vocabulary.tokens.enumerated() where !text.isEmpty {
            textToID[text] = Int32(id)
        }
        switch kind {
        case .sentencePiece:
            preTokenizerName = nil
            preTokenizer = nil
            bosID = valid(vocabulary.bosID ?? 1)
            eosID = valid(vocabulary.eosID ?? 2)
            addsBOS = vocabulary.addBOS ?? true
            addsSpacePrefix = vocabulary.addSpacePrefix ?? true
        case .bytePair:
            let pre = try PreTokenizer(name: vocabulary.pre)
            preTokenizerName = pre.name
            preTokenizer = pre
            bosID = valid(vocabulary.bosID ?? 11)
            eosID = valid(vocabulary.eosID ?? 11)
            addsBOS = vocabulary.addBOS ?? pre.addsBOSByDefault
            addsSpacePrefix = false
        }
        addsEOS = vocabulary.addEOS ?? false
        if addsBOS && bosID == nil {
            throw .invalid(
                key: "tokenizer.ggml.bos_token_id", index: nil,
                reason: "add_bos_token is set but there is no valid BOS id")
        }
        if addsEOS && eosID == nil {
            throw .invalid(
                key: "tokenizer.ggml.eos_token_id", index: nil,
                reason: "add_eos_token is set but there is no valid EOS id")
        }

        // step 4: end of generation (llama.cpp also forces these tokens to CONTROL)
        var endOfGeneration = Set(
            [eosID, valid(vocabulary.eotID), valid(vocabulary.eomID)].compactMap { $0 })
        for text in Self.endOfGenerationTexts {
            if let id = textToID[text] { endOfGeneration.insert(id) }
        }
        for id in endOfGeneration { types[Int(id)] = .control }
        endOfGenerationIDs = endOfGeneration
        tokenTexts = vocabulary.tokens
        tokenTypes = types

        // step 5: decode table
        let unknownID = valid(vocabulary.unknownID ?? (kind == .sentencePiece ? 0 : nil))
        tokenBytes = zip(vocabulary.tokens, types).map { text, type in
            Self.bytes(ofToken: text, type: type, kind: kind)
        }

        // step 6: the encoder
        specials = SpecialTokenMatcher(tokens: vocabulary.tokens, types: types)
        switch kind {
        case .bytePair:
            bytePair = try ByteLevelBPE(
                tokens: vocabulary.tokens, types: types, textToID: textToID,
                merges: vocabulary.merges, ignoresMerges: preTokenizer!.ignoresMerges,
                unknownID: unknownID)
            sentencePiece = nil
        case .sentencePiece:
            bytePair = nil
            sentencePiece = SentencePieceBPE(
                tokens: vocabulary.tokens, types: types, scores: vocabulary.scores,
                unknownID: unknownID)
        }
    }

    /// The bytes a token stands for when decoding.
    static func bytes(ofToken text: String, type: TokenType, kind: Kind) -> [UInt8] {
        switch (kind, type) {
        case (_, .control), (_, .unknown), (_, .userDefined):
            return Array(text.utf8)
        case (.sentencePiece, .byte):
            return SentencePieceBPE.byteValue(ofByteToken: text).map { [$0] } ?? Array(text.utf8)
        case (.sentencePiece, _):
            var unescaped = String.UnicodeScalarView()
            for scalar in text.unicodeScalars {
                unescaped.append(scalar == "\u{2581}" ? " " : scalar)
            }
            return Array(String(unescaped).utf8)
        case (.bytePair, _):
            return ByteAlphabet.bytes(ofTokenText: text)
        }
    }

    // MARK: encoding

    /// Token ids of `text`.
    ///
    /// - Parameters:
    ///   - addSpecial: put BOS first / EOS last when the model asks for them.
    ///   - parseSpecial: turn the literal text of control tokens (`<|im_start|>`) into their
    ///     ids, as the `tokenizers` library does by default. User-defined tokens are always
    ///     matched. Pass false for untrusted text that must not inject control tokens.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = true)
        -> [Int32]
    {
        var output: [Int32] = []
        output.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecial && addsBOS, let bosID { output.append(bosID) }
        var utf8 = Array(text.utf8)
        utf8.withUnsafeMutableBufferPointer { mutable in
            let bytes = UnsafeBufferPointer(mutable)
            let fragments = specials.partition(bytes, parseSpecial: parseSpecial)
            switch kind {
            case .bytePair: encodeBytePair(bytes, fragments, into: &output)
            case .sentencePiece: encodeSentencePiece(bytes, fragments, into: &output)
            }
        }
        if addSpecial && addsEOS, let eosID { output.append(eosID) }
        return output
    }

    private func encodeBytePair(
        _ bytes: UnsafeBufferPointer<UInt8>, _ fragments: [Fragment], into output: inout [Int32]
    ) {
        guard let preTokenizer, let bytePair else { return }
        var text = ScalarText()
        var pieces: [Range<Int>] = []
        var splitScratch: [Range<Int>] = []
        var scratch = BytePairScratch()
        var cache = PieceCache()
        for fragment in fragments {
            switch fragment {
            case .token(let id):
                output.append(id)
            case .text(let range):
                let fragmentBytes = UnsafeBufferPointer(rebasing: bytes[range])
                text.load(fragmentBytes)
                preTokenizer.split(text, into: &pieces, scratch: &splitScratch)
                for piece in pieces {
                    let start = text.byteOffsets[piece.lowerBound]
                    let end = text.byteOffsets[piece.upperBound]
                    let pieceBytes = UnsafeBufferPointer(rebasing: fragmentBytes[start..<end])
                    guard pieceBytes.count >= 2 && pieceBytes.count <= PieceCache.maximumPieceLength
                    else {
                        bytePair.encode(pieceBytes, into: &output, scratch: &scratch)
                        continue
                    }
                    // repeated pieces come from the cache
                    let hash = PieceCache.hash(pieceBytes)
                    if let cached = cache.lookup(pieceBytes, hash: hash) {
                        output.append(contentsOf: cache.ids[cached])
                        continue
                    }
                    let first = output.count
                    bytePair.encode(pieceBytes, into: &output, scratch: &scratch)
                    cache.insert(pieceBytes, hash: hash, ids: output[first...])
                }
            }
        }
    }

    private func encodeSentencePiece(
        _ bytes: UnsafeBufferPointer<UInt8>, _ fragments: [Fragment], into output: inout [Int32]
    ) {
        guard let sentencePiece else { return }
        var scratch = SentencePieceScratch()
        // llama.cpp puts the space prefix on the first fragment and on every fragment after a
        // special token (HF's non-legacy SentencePiece does not after specials; pitfall 23).
        var afterSpecial = true
        for fragment in fragments {
            switch fragment {
            case .token(let id):
                output.append(id)
                afterSpecial = true
            case .text(let range):
                sentencePiece.encode(
                    UnsafeBufferPointer(rebasing: bytes[range]),
                    addSpacePrefix: addsSpacePrefix && afterSpecial, into: &output,
                    scratch: &scratch)
                afterSpecial = false
            }
        }
    }

    // MARK: decoding

    /// Whether `id` ends generation.
    public func isEndOfGeneration(_ id: Int32) -> Bool { endOfGenerationIDs.contains(id) }

    /// Whether `id` is a token of this vocabulary.
    public func contains(_ id: Int32) -> Bool { id >= 0 && Int(id) < tokenTexts.count }

    /// The text of a whole sequence, as the reference libraries decode it.
    ///
    /// - Parameter renderSpecial: include the text of control tokens (`<|im_end|>`).
    ///   SentencePiece: the space of the prefix is removed from the first piece.
    ///   Invalid UTF-8 becomes U+FFFD; ids outside the vocabulary are skipped.
    public func decode(_ ids: [Int32], renderSpecial: Bool = false) -> String {
        var decoder = StreamingDecoder(
            tokenizer: self, renderSpecial: renderSpecial, stripsPrefixSpace: true)
        var text = ""
        for id in ids { text += decoder.append(id) }
        return text + decoder.finish()
    }

    /// A decoder for tokens that arrive one at a time.
    public func makeStreamingDecoder(renderSpecial: Bool = false) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, renderSpecial: renderSpecial, stripsPrefixSpace: false)
    }

    /// The bytes of one token (raw, possibly part of a character); empty outside the vocabulary.
    public func bytes(of id: Int32) -> [UInt8] {
        contains(id) ? tokenBytes[Int(id)] : []
    }

    /// A one-line readable form of a token: its text with control characters escaped
    /// (`\n`, `\t`, `\u{1B}`), or `<0xNN>` bytes when it is not whole UTF-8.
    public func readablePiece(_ id: Int32) -> String {
        guard contains(id) else { return "<invalid id \(id)>" }
        let bytes = tokenBytes[Int(id)]
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return bytes.map { "<0x" + String($0, radix: 16, uppercase: true).leftPadded(2) + ">" }
                .joined()
        }
        var readable = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": readable += "\\n"
            case "\t": readable += "\\t"
            case "\r": readable += "\\r"
            case "\\": readable += "\\\\"
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                    readable += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    readable.unicodeScalars.append(scalar)
                }
            }
        }
        return readable
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Turns token ids into text as they arrive: every piece it returns is valid UTF-8, the bytes
/// of an incomplete character are held back until it is complete, and invalid sequences become
/// U+FFFD. The concatenation of all pieces and `finish()` equals `Tokenizer.decode` of the ids.
public struct StreamingDecoder: Sendable {
    public let tokenizer: Tokenizer
    /// Include the text of control tokens.
    public var renderSpecial: Bool
    private var repair = UTF8Repair()
    private var stripsPrefixSpace: Bool

    init(tokenizer: Tokenizer, renderSpecial: Bool, stripsPrefixSpace: Bool) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
        self.stripsPrefixSpace =
            stripsPrefixSpace && tokenizer.kind == .sentencePiece && tokenizer.addsSpacePrefix
    }

    /// The text that token `id` completes (often empty inside a multi-byte character).
    public mutating func append(_ id: Int32) -> String {
        guard tokenizer.contains(id) else { return "" }
        let type = tokenizer.tokenTypes[Int(id)]
        if (type == .control || type == .unknown) && !renderSpecial { return "" }
        var bytes = tokenizer.tokenBytes[Int(id)][...]
        if stripsPrefixSpace && !bytes.isEmpty {
            // SentencePiece: the first piece's leading space is the prefix the encoder added.
            if (type == .normal || type == .unused || type == .undefined) && bytes.first == 0x20 {
                bytes = bytes.dropFirst()
            }
            stripsPrefixSpace = false
        }
        var text = ""
        repair.decode(bytes, into: &text)
        return text
    }

    /// Ends the stream: returns U+FFFD if an incomplete character is still held back.
    public mutating func finish() -> String {
        var text = ""
        repair.finish(into: &text)
        return text
    }
}
