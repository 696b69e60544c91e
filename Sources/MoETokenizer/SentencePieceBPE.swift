// SentencePiece-style BPE (`tokenizer.ggml.model = "llama"`): pieces with scores, "▁" for
// spaces, byte fallback to `<0xNN>` tokens.
//
// A fragment gets one leading space (when `add_space_prefix`), every space becomes U+2581, and
// it starts as one symbol per code point. The adjacent pair whose concatenation is a piece with
// the highest score is merged (leftmost first on ties) until no pair forms a piece. A final
// symbol that is not a piece becomes the byte tokens of its UTF-8 (or the unknown token).
// No Unicode normalisation is applied, as in llama.cpp.

/// A merge candidate: higher score first, then the leftmost.
struct ScoredPair: Comparable {
    var score: Float
    var left: Int32
    var right: Int32
    var merged: Int32
    var length: Int32

    static func < (a: ScoredPair, b: ScoredPair) -> Bool {
        a.score > b.score || (a.score == b.score && a.left < b.left)
    }
}

/// Reusable buffers of one encode call.
struct SentencePieceScratch {
    var text: [UInt8] = []
    var symbols = SymbolList()
    var queue = MinHeap<ScoredPair>()
    var cache = PieceCache()
}

/// The pieces of a SentencePiece vocabulary.
struct SentencePieceBPE: Sendable {
    /// UTF-8 of each mergeable piece (normal, user-defined, unused) -> id
    let pieces: ByteStringTable
    /// [vocabulary size] merge priority of each token
    let scores: [Float]
    /// [256] id of `<0xNN>` (-1 if absent)
    let byteTokenIDs: [Int32]
    let unknownID: Int32?
    /// No piece has a "▁" after another character, so words merge independently.
    let splitsAtWords: Bool

    static let spaceSymbol: [UInt8] = Array("\u{2581}".utf8)

    init(tokens: [String], types: [TokenType], scores: [Float], unknownID: Int32?) {
        var pieces: [([UInt8], Int32)] = []
        var splitsAtWords = true
        var byteTokenIDs = [Int32](repeating: -1, count: 256)
        for (id, text) in tokens.enumerated() {
            switch types[id] {
            case .normal, .userDefined, .unused, .undefined:
                let bytes = Array(text.utf8)
                if splitsAtWords && Self.hasInteriorSpace(bytes) { splitsAtWords = false }
                pieces.append((bytes, Int32(id)))
            case .byte:
                if let byte = Self.byteValue(ofByteToken: text) {
                    byteTokenIDs[Int(byte)] = Int32(id)
                }
            case .control, .unknown:
                break
            }
        }
        self.pieces = ByteStringTable(pieces)
        self.scores = scores.isEmpty ? [Float](repeating: 0, count: tokens.count) : scores
        self.byteTokenIDs = byteTokenIDs
        self.unknownID = unknownID
        self.splitsAtWords = splitsAtWords
    }

    /// 0xNN from `<0xNN>` (two hex digits), else nil.
    static func byteValue(ofByteToken text: String) -> UInt8? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 6, utf8[0] == 0x3C, utf8[1] == 0x30, utf8[2] == 0x78, utf8[5] == 0x3E
        else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }

    /// Appends the tokens of one text fragment.
    func encode(
        _ fragment: UnsafeBufferPointer<UInt8>, addSpacePrefix: Bool, into output: inout [Int32],
        scratch: inout SentencePieceScratch
    ) {
        var text: [UInt8] = []
        swap(&text, &scratch.text)
        defer { swap(&text, &scratch.text) }

        // escape spaces, with the optional leading one
        text.removeAll(keepingCapacity: true)
        if addSpacePrefix { text.append(contentsOf: Self.spaceSymbol) }
        for byte in fragment {
            if byte == 0x20 { text.append(contentsOf: Self.spaceSymbol) } else { text.append(byte) }
        }
        guard !text.isEmpty else { return }
        guard splitsAtWords else {
            encodeWord(text, 0..<text.count, into: &output, scratch: &scratch)
            return
        }

        // words start at a "▁" that follows something else; no piece spans that boundary, so
        // merging each word alone gives the same result as merging the whole fragment
        var wordStart = 0
        var index = 3
        while index + 3 <= text.count {
            if Self.isSpaceSymbol(text, at: index) && !Self.isSpaceSymbol(text, at: index - 3) {
                encodeCachedWord(text, wordStart..<index, into: &output, scratch: &scratch)
                wordStart = index
                index += 3
            } else {
                index += 1
            }
        }
        encodeCachedWord(text, wordStart..<text.count, into: &output, scratch: &scratch)
    }

    @inline(__always)
    static func isSpaceSymbol(_ text: [UInt8], at index: Int) -> Bool {
        index >= 0 && index + 3 <= text.count && text[index] == 0xE2 && text[index + 1] == 0x96
            && text[index + 2] == 0x81
    }

    /// Whether some mergeable piece has a "▁" right after another character (then words are
    /// not independent and a fragment is merged as a whole).
    static func hasInteriorSpace(_ piece: [UInt8]) -> Bool {
        var index = 1
        while index + 3 <= piece.count {
            if isSpaceSymbol(piece, at: index) && !isSpaceSymbol(piece, at: index - 3) {
                return true
            }
            index += 1
        }
        return false
    }

    private func encodeCachedWord(
        _ text: [UInt8], _ word: Range<Int>, into output: inout [Int32],
        scratch: inout SentencePieceScratch
    ) {
        guard word.count <= PieceCache.maximumPieceLength else {
            encodeWord(text, word, into: &output, scratch: &scratch)
            return
        }
        text.withUnsafeBufferPointer { buffer in
            let bytes = UnsafeBufferPointer(rebasing: buffer[word])
            let hash = PieceCache.hash(bytes)
            if let cached = scratch.cache.lookup(bytes, hash: hash) {
                output.append(contentsOf: scratch.cache.ids[cached])
                return
            }
            let first = output.count
            encodeWord(text, word, into: &output, scratch: &scratch)
            scratch.cache.insert(bytes, hash: hash, ids: output[first...])
        }
    }

    /// Merges the code points of `text[word]` and appends the resulting tokens.
    private func encodeWord(
        _ text: [UInt8], _ word: Range<Int>, into output: inout [Int32],
        scratch: inout SentencePieceScratch
    ) {
        var symbols = SymbolList()
        var queue = MinHeap<ScoredPair>()
        swap(&symbols, &scratch.symbols)
        swap(&queue, &scratch.queue)
        defer {
            swap(&symbols, &scratch.symbols)
            swap(&queue, &scratch.queue)
        }

        // one symbol per code point
        symbols.reset()
        queue.removeAll()
        var offset = word.lowerBound
        while offset < word.upperBound {
            let length = min(Self.sequenceLength(text[offset]), word.upperBound - offset)
            let id =
                text.withUnsafeBufferPointer {
                    pieces.value(UnsafeBufferPointer(rebasing: $0[offset..<(offset + length)]))
                } ?? -1
            symbols.append(id: id, start: offset, length: length)
            offset += length
        }
        symbols.close()
        for left in 0..<(symbols.count - 1) {
            enqueue(left, left + 1, text, symbols, &queue)
        }

        // merge the best-scoring pair until none is left
        while let pair = queue.pop() {
            let left = Int(pair.left)
            let right = Int(pair.right)
            let leftSymbol = symbols.items[left]
            let rightSymbol = symbols.items[right]
            guard leftSymbol.length > 0, rightSymbol.length > 0, leftSymbol.next == pair.right,
                leftSymbol.length + rightSymbol.length == pair.length
            else { continue }
            symbols.merge(left, right, into: pair.merged)
            let before = symbols.items[left].previous
            if before >= 0 { enqueue(Int(before), left, text, symbols, &queue) }
            let after = symbols.items[left].next
            if after >= 0 { enqueue(left, Int(after), text, symbols, &queue) }
        }

        // emit, with byte fallback for symbols that are not pieces
        var position: Int32 = 0
        while position >= 0 {
            let symbol = symbols.items[Int(position)]
            if symbol.id >= 0 {
                output.append(symbol.id)
            } else {
                let start = Int(symbol.start)
                for byte in text[start..<(start + Int(symbol.length))] {
                    let byteID = byteTokenIDs[Int(byte)]
                    if byteID >= 0 {
                        output.append(byteID)
                    } else if let unknownID {
                        output.append(unknownID)
                        break
                    }
                }
            }
            position = symbol.next
        }
    }

    private func enqueue(
        _ left: Int, _ right: Int, _ text: [UInt8], _ symbols: SymbolList,
        _ queue: inout MinHeap<ScoredPair>
    ) {
        let start = Int(symbols.items[left].start)
        let length = Int(symbols.items[left].length + symbols.items[right].length)
        let found = text.withUnsafeBufferPointer {
            pieces.value(UnsafeBufferPointer(rebasing: $0[start..<(start + length)]))
        }
        guard let id = found else { return }
        queue.push(
            ScoredPair(
                score: scores[Int(id)], left: Int32(left), right: Int32(right), merged: id,
                length: Int32(length)))
    }

    /// Length of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte).
    @inline(__always)
    static func sequenceLength(_ lead: UInt8) -> Int {
        if lead >= 0xF0 { return 4 }
        if lead >= 0xE0 { return 3 }
        if lead >= 0xC0 { return 2 }
        return 1
    }
}
