// Unicode classes the pre-tokenizer regexes use, as bit flags per code point.
//
// `\p{L}`, `\p{N}`, `\p{P}` are the general categories L*, N*, P*; `\s` is the White_Space
// property (Oniguruma, which the `tokenizers` library uses, defines it so: U+0009-000D, U+0085
// and Zs/Zl/Zp; U+001C-001F are not whitespace). The standard library's Unicode properties
// provide the values; the Basic Multilingual Plane is tabulated once.

/// Flags of one code point.
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt8

    static let letter = ScalarClass(rawValue: 1)
    static let number = ScalarClass(rawValue: 2)
    static let whitespace = ScalarClass(rawValue: 4)
    static let punctuation = ScalarClass(rawValue: 8)
    /// U+000D or U+000A.
    static let lineBreak = ScalarClass(rawValue: 16)

    /// Not whitespace, letter or number: `[^\s\p{L}\p{N}]`.
    var isOther: Bool { isDisjoint(with: [.letter, .number, .whitespace]) }

    /// The flags of `scalar`.
    @inline(__always)
    static func of(_ scalar: UInt32) -> ScalarClass {
        if scalar < 0x10000 { return basicPlane[Int(scalar)] }
        guard let value = Unicode.Scalar(scalar) else { return [] }
        return computed(value)
    }

    /// The flags of every code point below U+10000 (64 KiB, built on first use in a few
    /// milliseconds), so that the hot loop does no property lookups for them.
    static let basicPlane: [ScalarClass] = (0..<0x10000).map { code in
        guard let value = Unicode.Scalar(UInt32(code)) else { return [] }
        return computed(value)
    }

    private static func computed(_ value: Unicode.Scalar) -> ScalarClass {
        let properties = value.properties
        var flags: ScalarClass = properties.isWhitespace ? .whitespace : []
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            flags.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            flags.insert(.number)
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            flags.insert(.punctuation)
        default:
            break
        }
        if value == "\r" || value == "\n" { flags.insert(.lineBreak) }
        return flags
    }
}

/// A set of code points given as sorted, disjoint closed ranges (a regex bracket class).
struct ScalarRanges: Sendable {
    private let lower: [UInt32]
    private let upper: [UInt32]

    init(_ ranges: [ClosedRange<UInt32>]) {
        // Sort and merge overlapping ranges so that the search below sees disjoint ones.
        var merged: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        lower = merged.map(\.lowerBound)
        upper = merged.map(\.upperBound)
    }

    func contains(_ scalar: UInt32) -> Bool {
        // Binary search for the last range starting at or before `scalar`.
        var low = 0
        var high = lower.count
        while low < high {
            let middle = (low + high) / 2
            if lower[middle] <= scalar { low = middle + 1 } else { high = middle }
        }
        return low > 0 && scalar <= upper[low - 1]
    }
}
