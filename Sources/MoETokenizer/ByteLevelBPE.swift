// Byte-level BPE (`tokenizer.ggml.model = "gpt2"`): GPT-2's byte alphabet, merges by rank.
//
// Each pre-tokenized piece starts as one symbol per UTF-8 byte (the token of that byte's
// alphabet character); then the adjacent pair with the lowest merge rank is merged, leftmost
// first on ties, until no pair has a rank. Merges are kept by token id, so a step is a hash
// lookup of two integers.

/// GPT-2's reversible map between bytes and printable code points.
enum ByteAlphabet {
    /// Byte -> code point: 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF map to themselves; the other 68
    /// bytes, in increasing order, map to U+0100, U+0101, ...
    static let scalarOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var extra: UInt32 = 0
        for byte in 0..<256 {
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte)
                || (0xAE...0xFF).contains(byte)
            {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = 0x100 + extra
                extra += 1
            }
        }
        return table
    }()

    /// Code point -> byte, for the 256 code points above.
    static let byteOfScalar: [UInt32: UInt8] = {
        var table: [UInt32: UInt8] = [:]
        for (byte, scalar) in scalarOfByte.enumerated() { table[scalar] = UInt8(byte) }
        return table
    }()

    /// The bytes a normal token's text stands for; code points outside the alphabet (not
    /// expected in normal tokens) keep their own UTF-8.
    static func bytes(ofTokenText text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let byte = byteOfScalar[scalar.value] {
                bytes.append(byte)
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        return bytes
    }
}

/// A merge candidate: lower rank first, then the leftmost.
struct RankedPair: Comparable {
    var rank: Int32
    var left: Int32
    var right: Int32
    var merged: Int32
    var leftID: Int32
    var rightID: Int32

    static func < (a: RankedPair, b: RankedPair) -> Bool {
        a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
    }
}

/// Reusable buffers of one encode call.
struct BytePairScratch {
    var symbols = SymbolList()
    var queue = MinHeap<RankedPair>()
}

/// The merge table of a byte-level BPE vocabulary.
struct ByteLevelBPE: Sendable {
    /// [256] token id of each byte's alphabet character (-1 if the vocabulary lacks it)
    let byteTokenIDs: [Int32]
    /// (left id << 32 | right id) -> (rank << 32 | merged id)
    let merges: IntegerTable
    /// Words up to this many bytes merge by scanning; longer ones through the queue.
    static let scanLimit = 48
    /// Raw bytes of every normal token -> id, for `ignoresMerges`.
    let wholeTokens: ByteStringTable
    let ignoresMerges: Bool
    /// Emitted for a byte whose alphabet character is not in the vocabulary.
    let unknownID: Int32?

    init(
        tokens: [String], types: [TokenType], textToID: [String: Int32],
        merges mergeTexts: [String],
        ignoresMerges: Bool, unknownID: Int32?
    ) throws(TokenizerError) {
        // step 1: byte alphabet -> ids
        byteTokenIDs = ByteAlphabet.scalarOfByte.map { scalar in
            textToID[String(Unicode.Scalar(scalar)!)] ?? -1
        }

        // step 2: merges "left right" -> (rank, merged id)
        var merges = IntegerTable(capacity: mergeTexts.count)
        for (rank, text) in mergeTexts.enumerated() {
            let utf8 = Array(text.utf8)
            guard utf8.count >= 3, let space = utf8[1...].firstIndex(of: 0x20) else {
                throw .invalid(
                    key: "tokenizer.ggml.merges", index: rank,
                    reason: "expected \"left right\", found \"\(text)\"")
            }
            let left = String(decoding: utf8[..<space], as: UTF8.self)
            let right = String(decoding: utf8[(space + 1)...], as: UTF8.self)
            // A merge whose parts or result are not tokens can never apply; llama.cpp skips it
            // the same way (its result would not map to an id).
            guard let leftID = textToID[left], let rightID = textToID[right],
                let mergedID = textToID[left + right]
            else { continue }
            let key = UInt64(UInt32(leftID)) << 32 | UInt64(UInt32(rightID))
            merges.insertIfAbsent(key, UInt64(UInt32(rank)) << 32 | UInt64(UInt32(mergedID)))
        }
        self.merges = merges

        // step 3: whole-token lookup (Llama 3 emits a piece that is a token without merging)
        var wholeTokens: [([UInt8], Int32)] = []
        if ignoresMerges {
            for (id, text) in tokens.enumerated() where types[id] == .normal {
                wholeTokens.append((ByteAlphabet.bytes(ofTokenText: text), Int32(id)))
            }
        }
        self.wholeTokens = ByteStringTable(wholeTokens)
        self.ignoresMerges = ignoresMerges
        self.unknownID = unknownID
    }

    /// Appends the tokens of one pre-tokenized piece.
    func encode(
        _ piece: UnsafeBufferPointer<UInt8>, into output: inout [Int32],
        scratch: inout BytePairScratch
    ) {
        if piece.count == 1 {
            appendToken(byteTokenIDs[Int(piece[0])], to: &output)
            return
        }
        if ignoresMerges, let id = wholeTokens.value(piece) {
            output.append(id)
            return
        }
        if piece.count <= Self.scanLimit {
            encodeByScanning(piece, into: &output)
            return
        }

        // one symbol per byte
        // (the buffers are moved out of `scratch` and back, so reusing them copies nothing)
        var symbols = SymbolList()
        var queue = MinHeap<RankedPair>()
        swap(&symbols, &scratch.symbols)
        swap(&queue, &scratch.queue)
        defer {
            swap(&symbols, &scratch.symbols)
            swap(&queue, &scratch.queue)
        }
        symbols.reset()
        queue.removeAll()
        for (offset, byte) in piece.enumerated() {
            symbols.append(id: byteTokenIDs[Int(byte)], start: offset, length: 1)
        }
        // (the queue path: O(n log n) for long pieces)
        symbols.close()
        for left in 0..<(piece.count - 1) {
            enqueue(left, left + 1, symbols, &queue)
        }

        // merge the best pair until none is left
        while let pair = queue.pop() {
            let left = Int(pair.left)
            let right = Int(pair.right)
            let leftSymbol = symbols.items[left]
            let rightSymbol = symbols.items[right]
            guard leftSymbol.length > 0, rightSymbol.length > 0, leftSymbol.next == pair.right,
                leftSymbol.id == pair.leftID, rightSymbol.id == pair.rightID
            else { continue }
            symbols.merge(left, right, into: pair.merged)
            let before = symbols.items[left].previous
            if before >= 0 { enqueue(Int(before), left, symbols, &queue) }
            let after = symbols.items[left].next
            if after >= 0 { enqueue(left, Int(after), symbols, &queue) }
        }

        // emit
        var position: Int32 = 0
        while position >= 0 {
            appendToken(symbols.items[Int(position)].id, to: &output)
            position = symbols.items[Int(position)].next
        }
    }

    /// The same merges for a short piece, in stack buffers: rescan the pair ranks for the
    /// minimum each step (lowest rank, leftmost on ties), re-ranking only the two pairs a merge
    /// changes.
    private func encodeByScanning(
        _ piece: UnsafeBufferPointer<UInt8>, into output: inout [Int32]
    ) {
        let n = piece.count
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 * Self.scanLimit) { buffer in
            // [n] ids, then [n - 1] pair ranks (Int32.max: no merge) and merge results
            let ids = buffer.baseAddress!
            let ranks = ids + Self.scanLimit
            let merged = ranks + Self.scanLimit
            for k in 0..<n { ids[k] = byteTokenIDs[Int(piece[k])] }
            for k in 0..<(n - 1) { (ranks[k], merged[k]) = lookup(ids[k], ids[k + 1]) }
            var count = n
            while count > 1 {
                // best pair
                var best = -1
                var bestRank = Int32.max
                for k in 0..<(count - 1) where ranks[k] < bestRank {
                    bestRank = ranks[k]
                    best = k
                }
                guard best >= 0 else { break }

                // merge it: drop symbol best + 1 and pair best, re-rank the neighbours
                ids[best] = merged[best]
                for k in (best + 1)..<(count - 1) {
                    ids[k] = ids[k + 1]
                    ranks[k - 1] = ranks[k]
                    merged[k - 1] = merged[k]
                }
                count -= 1
                if best < count - 1 {
                    (ranks[best], merged[best]) = lookup(ids[best], ids[best + 1])
                }
                if best > 0 {
                    (ranks[best - 1], merged[best - 1]) = lookup(ids[best - 1], ids[best])
                }
            }
            for k in 0..<count { appendToken(ids[k], to: &output) }
        }
    }

    /// Rank and result of merging `left` and `right` (Int32.max when they do not merge).
    @inline(__always)
    private func lookup(_ left: Int32, _ right: Int32) -> (Int32, Int32) {
        guard left >= 0, right >= 0 else { return (.max, -1) }
        let key = UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
        guard let value = merges.value(key) else { return (.max, -1) }
        return (
            Int32(truncatingIfNeeded: value >> 32), Int32(truncatingIfNeeded: value & 0xFFFF_FFFF)
        )
    }

    @inline(__always)
    private func enqueue(
        _ left: Int, _ right: Int, _ symbols: SymbolList, _ queue: inout MinHeap<RankedPair>
    ) {
        let leftID = symbols.items[left].id
        let rightID = symbols.items[right].id
        let (rank, merged) = lookup(leftID, rightID)
        guard rank != .max else { return }
        queue.push(
            RankedPair(
                rank: rank, left: Int32(left), right: Int32(right), merged: merged,
                leftID: leftID, rightID: rightID))
    }

    @inline(__always)
    private func appendToken(_ id: Int32, to output: inout [Int32]) {
        if id >= 0 {
            output.append(id)
        } else if let unknownID {
            output.append(unknownID)
        }
    }
}
