// Special-token partitioning: before any pre-tokenization the raw text is scanned for the
// literal text of added tokens; each occurrence becomes its id and splits the text into
// fragments that are tokenized independently. User-defined tokens are always matched; control
// and unknown ones only when the caller asks (`parseSpecial`), as in llama.cpp. At each position
// the longest token wins and the scan moves left to right (the `tokenizers` library's
// leftmost-longest match).

/// A fragment of partitioned text: a byte range to tokenize, or a matched token.
enum Fragment: Equatable {
    case text(Range<Int>)
    case token(Int32)
}

/// The added tokens of a vocabulary, indexed by first byte.
struct SpecialTokenMatcher: Sendable {
    struct Candidate: Sendable {
        let bytes: [UInt8]
        let id: Int32
        /// User-defined: matched even when special tokens are not parsed.
        let always: Bool
    }

    /// [256] candidates starting with each byte, longest first
    private let candidates: [[Candidate]]
    let isEmpty: Bool

    init(tokens: [String], types: [TokenType]) {
        var table = [[Candidate]](repeating: [], count: 256)
        var any = false
        for (id, text) in tokens.enumerated() where !text.isEmpty {
            let type = types[id]
            guard type == .userDefined || type == .control || type == .unknown else { continue }
            let bytes = Array(text.utf8)
            table[Int(bytes[0])].append(
                Candidate(bytes: bytes, id: Int32(id), always: type == .userDefined))
            any = true
        }
        candidates = table.map { $0.sorted { $0.bytes.count > $1.bytes.count } }
        isEmpty = !any
    }

    /// Splits `bytes` into text fragments and matched tokens, in order.
    func partition(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        guard !isEmpty else { return bytes.isEmpty ? [] : [.text(0..<bytes.count)] }
        var fragments: [Fragment] = []
        var textStart = 0
        var position = 0
        while position < bytes.count {
            var matched: Candidate?
            for candidate in candidates[Int(bytes[position])]
            where (candidate.always || parseSpecial)
                && position + candidate.bytes.count <= bytes.count
            {
                var equal = true
                for k in 1..<candidate.bytes.count where bytes[position + k] != candidate.bytes[k] {
                    equal = false
                    break
                }
                if equal {
                    matched = candidate
                    break
                }
            }
            guard let matched else {
                position += 1
                continue
            }
            if textStart < position { fragments.append(.text(textStart..<position)) }
            fragments.append(.token(matched.id))
            position += matched.bytes.count
            textStart = position
        }
        if textStart < bytes.count { fragments.append(.text(textStart..<bytes.count)) }
        return fragments
    }
}
