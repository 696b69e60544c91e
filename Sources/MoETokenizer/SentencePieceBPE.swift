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
}

/// The pieces of a SentencePiece vocabulary.
struct SentencePieceBPE: Sendable {
    /// UTF-8 of each mergeable piece (normal, user-defined, unused) -> id
    let pieces: [[UInt8]: Int32]
    /// [vocabulary size] merge priority of each token
    let scores: [Float]
    /// [256] id of `<0xNN>` (-1 if absent)
    let byteTokenIDs: [Int32]
    let unknownID: Int32?

    static let spaceSymbol: [UInt8] = Array("\u{2581}".utf8)

    init(tokens: [String], types: [TokenType], scores: [Float], unknownID: Int32?) {
        var pieces: [[UInt8]: Int32] = [:]
        var byteTokenIDs = [Int32](repeating: -1, count: 256)
        for (id, text) in tokens.enumerated() {
            switch types[id] {
            case .normal, .userDefined, .unused, .undefined:
                pieces[Array(text.utf8)] = Int32(id)
            case .byte:
                if let byte = Self.byteValue(ofByteToken: text) {
                    byteTokenIDs[Int(byte)] = Int32(id)
                }
            case .control, .unknown:
                break
            }
        }
        self.pieces = pieces
        self.scores = scores.isEmpty ? [Float](repeating: 0, count: tokens.count) : scores
        self.byteTokenIDs = byteTokenIDs
        self.unknownID = unknownID
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
        var symbols = SymbolList()
        var queue = MinHeap<ScoredPair>()
        swap(&text, &scratch.text)
        swap(&symbols, &scratch.symbols)
        swap(&queue, &scratch.queue)
        defer {
            swap(&text, &scratch.text)
            swap(&symbols, &scratch.symbols)
            swap(&queue, &scratch.queue)
        }

        // escape spaces, with the optional leading one
        text.removeAll(keepingCapacity: true)
        if addSpacePrefix { text.append(contentsOf: Self.spaceSymbol) }
        for byte in fragment {
            if byte == 0x20 { text.append(contentsOf: Self.spaceSymbol) } else { text.append(byte) }
        }
        guard !text.isEmpty else { return }

        // one symbol per code point
        symbols.reset()
        queue.removeAll()
        var offset = 0
        while offset < text.count {
            let length = min(Self.sequenceLength(text[offset]), text.count - offset)
            let id = pieces[Array(text[offset..<(offset + length)])] ?? -1
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
        guard let id = pieces[Array(text[start..<(start + length)])] else { return }
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
