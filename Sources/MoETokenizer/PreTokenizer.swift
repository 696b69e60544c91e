// Pre-tokenizers of byte-level BPE vocabularies: the `tokenizer.ggml.pre` regex lists, matched
// by hand-written code that follows each regex's leftmost-first, greedy-with-backtracking
// semantics on Unicode code points.
//
// A list of regexes is applied in sequence: each one splits every current piece into its matches
// and the unmatched gaps between them (both kept, in order), as the `tokenizers` library's
// `Split(behavior: isolated)` and llama.cpp's `unicode_regex_split` do. Regexes are matched
// inside one piece at a time, so `$` and `(?!\S)` see the end of the piece.

/// The code points of one text fragment with their classes and UTF-8 offsets.
struct ScalarText {
    /// [count]
    var scalars: [UInt32] = []
    /// [count]
    var classes: [ScalarClass] = []
    /// [count + 1]: byte offset of each code point in the fragment's UTF-8, then its length.
    var byteOffsets: [Int] = []

    /// Decodes the valid UTF-8 `bytes` (a Swift string's) into code points.
    mutating func load(_ bytes: UnsafeBufferPointer<UInt8>) {
        // sized for the worst case (one code point per byte), filled uninitialised through
        // pointers: no zeroing of megabytes for long texts
        let capacity = bytes.count
        let table = ScalarClass.basicPlane
        var newClasses: [ScalarClass] = []
        var newOffsets: [Int] = []
        let newScalars = [UInt32](unsafeUninitializedCapacity: capacity) {
            scalarsOut, scalarCount in
            newClasses = [ScalarClass](unsafeUninitializedCapacity: capacity) {
                classesOut, classCount in
                newOffsets = [Int](unsafeUninitializedCapacity: capacity + 1) {
                    offsetsOut, offsetCount in
                    var count = 0
                    var index = 0
                    while index < bytes.count {
                        let lead = UInt32(bytes[index])
                        var scalar = lead
                        var length = 1
                        if lead >= 0xF0 {
                            length = 4
                            scalar = lead & 0x07
                        } else if lead >= 0xE0 {
                            length = 3
                            scalar = lead & 0x0F
                        } else if lead >= 0xC0 {
                            length = 2
                            scalar = lead & 0x1F
                        }
                        var offset = 1
                        while offset < length && index + offset < bytes.count {
                            scalar = (scalar << 6) | (UInt32(bytes[index + offset]) & 0x3F)
                            offset += 1
                        }
                        scalarsOut[count] = scalar
                        classesOut[count] =
                            scalar < 0x10000 ? table[Int(scalar)] : ScalarClass.of(scalar)
                        offsetsOut[count] = index
                        count += 1
                        index += length
                    }
                    offsetsOut[count] = bytes.count
                    offsetCount = count + 1
                    classCount = count
                    scalarCount = count
                }
            }
        }
        scalars = newScalars
        classes = newClasses
        byteOffsets = newOffsets
    }
}

/// One regex of a pre-tokenizer list.
enum SplitRule: Sendable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// Llama 3 (`maxDigits` 3) and Qwen2 (`maxDigits` 1):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}|`
    /// ` ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llama3(maxDigits: Int)
    /// `\s?[set]{min,max}` (with `optionalSpace`) or `[set]{min,max}`.
    case run(optionalSpace: Bool, set: ScalarSet, min: Int, max: Int)
    /// `\s+$`: the whitespace at the end of the piece.
    case trailingWhitespace
}

/// A bracket class or property of a `run` rule.
enum ScalarSet: Sendable {
    case lineBreak
    case letter
    case number
    case punctuation
    case asciiDigit
    /// `[\p{P}\$\+<=>\^~\|]`
    case punctuationOrSymbolASCII
    case ranges(ScalarRanges)

    func contains(_ scalar: UInt32, _ flags: ScalarClass) -> Bool {
        switch self {
        case .lineBreak: return flags.contains(.lineBreak)
        case .letter: return flags.contains(.letter)
        case .number: return flags.contains(.number)
        case .punctuation: return flags.contains(.punctuation)
        case .asciiDigit: return scalar >= 0x30 && scalar <= 0x39
        case .punctuationOrSymbolASCII:
            return flags.contains(.punctuation)
                || "$+<=>^~|".unicodeScalars.contains { $0.value == scalar }
        case .ranges(let ranges): return ranges.contains(scalar)
        }
    }
}

/// The pre-tokenizer of one `tokenizer.ggml.pre` value.
struct PreTokenizer: Sendable {
    let name: String
    let rules: [SplitRule]
    /// Llama 3: a piece that is a whole token is emitted without applying merges.
    let ignoresMerges: Bool
    /// Llama 3 family: add a BOS by default when the file has no `add_bos_token` key.
    let addsBOSByDefault: Bool

    /// Names grouped by the regex list they select (as llama.cpp maps them).
    static let supportedNames: [String] = [
        "default", "gpt-2", "gpt2", "phi-2", "olmo", "gpt-neox", "mpt", "llama3", "llama-v3",
        "llama-bpe", "falcon3", "dbrx", "smaug-bpe", "qwen2", "deepseek-r1-qwen", "stablelm2",
        "hunyuan", "deepseek-llm", "deepseek-coder", "refact", "starcoder", "smollm", "command-r",
    ]

    /// The pre-tokenizer for `name`; nil (key absent) means llama.cpp's `default`.
    init(name: String?) throws(TokenizerError) {
        let name = name ?? "default"
        self.name = name
        var ignoresMerges = false
        var addsBOS = false
        switch name {
        case "default":
            rules = [
                .run(optionalSpace: false, set: .punctuationOrSymbolASCII, min: 1, max: .max),
                .gpt2,
                .run(optionalSpace: false, set: .number, min: 1, max: .max),
                .run(optionalSpace: false, set: .asciiDigit, min: 3, max: 3),
            ]
        case "gpt-2", "gpt2", "phi-2", "olmo", "gpt-neox", "mpt":
            rules = [.gpt2]
        case "llama3", "llama-v3", "llama-bpe", "falcon3":
            rules = [.llama3(maxDigits: 3)]
            ignoresMerges = true
            addsBOS = true
        case "dbrx", "smaug-bpe":
            rules = [.llama3(maxDigits: 3)]
        case "qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan":
            rules = [.llama3(maxDigits: 1)]
        case "deepseek-llm":
            rules = [
                .run(optionalSpace: false, set: .lineBreak, min: 1, max: 1),
                .run(optionalSpace: true, set: .ranges(DeepSeekClasses.letters), min: 1, max: .max),
                .run(
                    optionalSpace: true, set: .ranges(DeepSeekClasses.punctuation), min: 1,
                    max: .max),
                .trailingWhitespace,
                .run(optionalSpace: false, set: .ranges(DeepSeekClasses.cjk), min: 1, max: .max),
                .run(optionalSpace: false, set: .number, min: 1, max: .max),
            ]
            addsBOS = true
        case "deepseek-coder":
            rules = [
                .run(optionalSpace: false, set: .lineBreak, min: 1, max: 1),
                .run(optionalSpace: true, set: .letter, min: 1, max: .max),
                .run(optionalSpace: true, set: .punctuation, min: 1, max: .max),
                .run(optionalSpace: false, set: .ranges(DeepSeekClasses.cjk), min: 1, max: .max),
                .run(optionalSpace: false, set: .number, min: 1, max: 1),
            ]
            addsBOS = true
        case "refact", "starcoder", "smollm", "command-r":
            rules = [.run(optionalSpace: false, set: .number, min: 1, max: 1), .gpt2]
        default:
            throw .unsupported(
                key: "tokenizer.ggml.pre", value: name, supported: Self.supportedNames)
        }
        self.ignoresMerges = ignoresMerges
        self.addsBOSByDefault = addsBOS
    }

    /// Splits `text` into pieces: half-open code-point ranges, in order, covering all of it.
    func split(_ text: ScalarText, into pieces: inout [Range<Int>], scratch: inout [Range<Int>]) {
        pieces.removeAll(keepingCapacity: true)
        guard !text.scalars.isEmpty else { return }
        pieces.append(0..<text.scalars.count)
        for rule in rules {
            swap(&pieces, &scratch)
            pieces.removeAll(keepingCapacity: true)
            for piece in scratch {
                Self.apply(rule, to: piece, of: text, appending: &pieces)
            }
        }
    }

    /// Appends the matches of `rule` inside `piece` and the gaps between them.
    private static func apply(
        _ rule: SplitRule, to piece: Range<Int>, of text: ScalarText,
        appending pieces: inout [Range<Int>]
    ) {
        let end = piece.upperBound
        if case .trailingWhitespace = rule {
            // `\s+$` has at most one match: the whitespace suffix.
            var start = end
            while start > piece.lowerBound && text.classes[start - 1].contains(.whitespace) {
                start -= 1
            }
            if start > piece.lowerBound { pieces.append(piece.lowerBound..<start) }
            if start < end { pieces.append(start..<end) }
            return
        }
        var position = piece.lowerBound
        var gapStart = position
        while position < end {
            let matchEnd: Int?
            switch rule {
            case .gpt2: matchEnd = matchGPT2(text, position, end)
            case .llama3(let maxDigits): matchEnd = matchLlama3(text, position, end, maxDigits)
            case .run(let optionalSpace, let set, let min, let max):
                matchEnd = matchRun(text, position, end, optionalSpace, set, min, max)
            case .trailingWhitespace: matchEnd = nil
            }
            if let matchEnd, matchEnd > position {
                if gapStart < position { pieces.append(gapStart..<position) }
                pieces.append(position..<matchEnd)
                position = matchEnd
                gapStart = matchEnd
            } else {
                position += 1
            }
        }
        if gapStart < end { pieces.append(gapStart..<end) }
    }

    // MARK: matchers (each returns the end of the match starting at `i`, or nil)

    /// End of the run of code points with `flag` starting at `i`.
    @inline(__always)
    private static func runEnd(_ text: ScalarText, _ i: Int, _ end: Int, _ flag: ScalarClass)
        -> Int
    {
        var j = i
        while j < end && text.classes[j].contains(flag) { j += 1 }
        return j
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d`, case-sensitive or with Unicode case folding (where ſ is s).
    private static func matchContraction(
        _ text: ScalarText, _ i: Int, _ end: Int, ignoringCase: Bool
    ) -> Int? {
        guard text.scalars[i] == 0x27, i + 1 < end else { return nil }
        func folded(_ k: Int) -> UInt32 {
            guard k < end else { return 0 }
            let scalar = text.scalars[k]
            guard ignoringCase else { return scalar }
            if scalar == 0x17F { return 0x73 }  // ſ folds to s
            if scalar >= 0x41 && scalar <= 0x5A { return scalar + 0x20 }
            return scalar
        }
        switch folded(i + 1) {
        case 0x73, 0x74, 0x6D, 0x64:  // s t m d
            return i + 2
        case 0x72, 0x76:  // re ve
            return folded(i + 2) == 0x65 ? i + 3 : nil
        case 0x6C:  // ll
            return folded(i + 2) == 0x6C ? i + 3 : nil
        default:
            return nil
        }
    }

    /// `\s+(?!\S)|\s+` at a whitespace code point.
    @inline(__always)
    private static func matchWhitespace(_ text: ScalarText, _ i: Int, _ end: Int) -> Int {
        let runEnd = runEnd(text, i, end, .whitespace)
        // Followed by a non-space: give the last whitespace to the next piece when the run is
        // longer than one; a single one still matches `\s+`.
        if runEnd < end && runEnd - i >= 2 { return runEnd - 1 }
        return runEnd
    }

    private static func matchGPT2(_ text: ScalarText, _ i: Int, _ end: Int) -> Int? {
        if let contraction = matchContraction(text, i, end, ignoringCase: false) {
            return contraction
        }
        // ` ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+`
        let start = text.scalars[i] == 0x20 && i + 1 < end ? i + 1 : i
        let flags = text.classes[start]
        if flags.contains(.letter) { return runEnd(text, start, end, .letter) }
        if flags.contains(.number) { return runEnd(text, start, end, .number) }
        if flags.isOther {
            var j = start
            while j < end && text.classes[j].isOther { j += 1 }
            return j
        }
        if text.classes[i].contains(.whitespace) { return matchWhitespace(text, i, end) }
        return nil
    }

    private static func matchLlama3(_ text: ScalarText, _ i: Int, _ end: Int, _ maxDigits: Int)
        -> Int?
    {
        if let contraction = matchContraction(text, i, end, ignoringCase: true) {
            return contraction
        }
        let flags = text.classes[i]
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if flags.contains(.letter) { return runEnd(text, i, end, .letter) }
        if flags.isDisjoint(with: [.lineBreak, .letter, .number]) && i + 1 < end
            && text.classes[i + 1].contains(.letter)
        {
            return runEnd(text, i + 1, end, .letter)
        }
        // `\p{N}{1,maxDigits}`
        if flags.contains(.number) {
            return min(runEnd(text, i, end, .number), i + maxDigits)
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let start = text.scalars[i] == 0x20 && i + 1 < end ? i + 1 : i
        if text.classes[start].isOther {
            var j = start
            while j < end && text.classes[j].isOther { j += 1 }
            return runEnd(text, j, end, .lineBreak)
        }
        guard flags.contains(.whitespace) else { return nil }
        // `\s*[\r\n]+`: up to and including the last line break of the whitespace run.
        let whitespaceEnd = runEnd(text, i, end, .whitespace)
        var lastBreak = whitespaceEnd - 1
        while lastBreak >= i && !text.classes[lastBreak].contains(.lineBreak) { lastBreak -= 1 }
        if lastBreak >= i { return lastBreak + 1 }
        return matchWhitespace(text, i, end)
    }

    private static func matchRun(
        _ text: ScalarText, _ i: Int, _ end: Int, _ optionalSpace: Bool, _ set: ScalarSet,
        _ minCount: Int, _ maxCount: Int
    ) -> Int? {
        var start = i
        if optionalSpace && text.classes[i].contains(.whitespace) && i + 1 < end
            && set.contains(text.scalars[i + 1], text.classes[i + 1])
        {
            start = i + 1
        }
        var j = start
        while j < end && j - start < maxCount && set.contains(text.scalars[j], text.classes[j]) {
            j += 1
        }
        return j - start >= minCount ? j : nil
    }
}

/// The bracket classes of DeepSeek's pre-tokenizers, from llama.cpp's `llama-vocab.cpp`
/// (`LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_LLM`), which copies them from the models' tokenizer.json.
enum DeepSeekClasses {
    /// `[A-Za-zµÀ-ÖØ-öø-ƺ…𞤀-𞥃]`: Latin, Greek, Cyrillic, Armenian, Georgian, Cherokee, … letters.
    static let letters = ScalarRanges([
        0x41...0x5A, 0x61...0x7A, 0xB5...0xB5, 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x1BA,
        0x1BC...0x1BF, 0x1C4...0x293, 0x295...0x2AF, 0x370...0x373, 0x376...0x377,
        0x37B...0x37D, 0x37F...0x37F, 0x386...0x386, 0x388...0x38A, 0x38C...0x38C,
        0x38E...0x3A1, 0x3A3...0x3F5, 0x3F7...0x481, 0x48A...0x52F, 0x531...0x556,
        0x10A0...0x10C5, 0x13A0...0x13F5, 0x13F8...0x13FD, 0x1C90...0x1CBA, 0x1CBD...0x1CBF,
        0x1D00...0x1D2B, 0x1D6B...0x1D77, 0x1D79...0x1D9A, 0x1E00...0x1F15, 0x1F18...0x1F1D,
        0x1F20...0x1F45, 0x1F48...0x1F4D, 0x1F50...0x1F57, 0x1F59...0x1F59, 0x1F5B...0x1F5B,
        0x1F5D...0x1F5D, 0x1F5F...0x1F7D, 0x1F80...0x1FB4, 0x1FB6...0x1FBC, 0x1FBE...0x1FBE,
        0x1FC2...0x1FC4, 0x1FC6...0x1FCC, 0x1FD0...0x1FD3, 0x1FD6...0x1FDB, 0x1FE0...0x1FEC,
        0x1FF2...0x1FF4, 0x1FF6...0x1FFC, 0x2102...0x2102, 0x2107...0x2107, 0x210A...0x2113,
        0x2115...0x2115, 0x2119...0x211D, 0x2124...0x2124, 0x2126...0x2126, 0x2128...0x2128,
        0x212A...0x212D, 0x212F...0x2134, 0x2139...0x2139, 0x213C...0x213F, 0x2145...0x2149,
        0x214E...0x214E, 0x2183...0x2184, 0x2C00...0x2C7B, 0x2C7E...0x2CE4, 0x2CEB...0x2CEE,
        0x2CF2...0x2CF3, 0xA640...0xA66D, 0xA680...0xA69B, 0xA722...0xA76F, 0xA771...0xA787,
        0xA78B...0xA78E, 0xAB70...0xABBF, 0xFB00...0xFB06, 0xFB13...0xFB17, 0xFF21...0xFF3A,
        0xFF41...0xFF5A, 0x10400...0x1044F, 0x104B0...0x104D3, 0x104D8...0x104FB,
        0x10C80...0x10CB2, 0x10CC0...0x10CF2, 0x118A0...0x118DF, 0x1E900...0x1E943,
    ])
    /// `[!-/:-~！-／：-～‘-‟　-。]`
    static let punctuation = ScalarRanges([
        0x21...0x2F, 0x3A...0x7E, 0xFF01...0xFF0F, 0xFF1A...0xFF5E, 0x2018...0x201F,
        0x3000...0x3002,
    ])
    /// `[一-龥ࠀ-一가-퟿]`
    static let cjk = ScalarRanges([0x4E00...0x9FA5, 0x0800...0x4E00, 0xAC00...0xD7FF])
}
