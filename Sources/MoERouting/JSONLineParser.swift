// A hand-written scanner for one JSON line of a trace. JSONDecoder builds a dictionary of boxed
// values per line; a token line of a 48-layer x 128-expert model holds thousands of numbers, so
// the reader scans bytes and writes numbers straight into its columns instead.
//
// Floats are parsed with Clinger's fast path (an exact integer mantissa below 2^53 times an
// exact power of ten up to 10^22 is correctly rounded in one double operation) and fall back to
// the standard library, which rounds correctly, for everything else. A float is rounded from
// that double, which is the correct float unless the double sits exactly on a midpoint between
// two floats; that case also falls back.

/// Where and why a line failed to parse.
struct LineError: Error {
    /// 1-based byte column.
    var column: Int
    var message: String
}

/// Exact powers of ten representable as doubles.
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

/// Deepest nesting `skipValue` follows before refusing the line.
private let maximumNesting = 64

/// Scans one line. Holds raw pointers into a buffer that outlives it.
struct JSONLineParser {
    private var p: UnsafePointer<UInt8>
    private let start: UnsafePointer<UInt8>
    private let end: UnsafePointer<UInt8>

    init(_ line: UnsafeBufferPointer<UInt8>) {
        start = line.baseAddress!
        p = start
        end = start + line.count
    }

    var column: Int { p - start + 1 }

    func fail(_ message: String) -> LineError {
        LineError(column: column, message: message)
    }

    /// A short quote of the text at the cursor, for messages.
    var found: String {
        guard p < end else { return "end of line" }
        let count = min(12, end - p)
        let text = String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
        return "'\(text)\(count < end - p ? "..." : "")'"
    }

    @inline(__always) mutating func skipWhitespace() {
        while p < end {
            let byte = p.pointee
            guard
                byte == ASCII.space || byte == ASCII.tab || byte == ASCII.carriageReturn
                    || byte == ASCII.newline
            else { return }
            p += 1
        }
    }

    @inline(__always) mutating func peek() -> UInt8? {
        skipWhitespace()
        return p < end ? p.pointee : nil
    }

    /// `what` is only built when the byte is missing: the happy path costs no string work.
    @inline(__always) mutating func expect(_ byte: UInt8, _ what: @autoclosure () -> String)
        throws(LineError)
    {
        guard peek() == byte else { throw fail("expected \(what()), found \(found)") }
        p += 1
    }

    /// After a value inside an array: true for `,` (another follows), false for `]`.
    @inline(__always) mutating func arrayContinues(_ context: @autoclosure () -> String)
        throws(LineError) -> Bool
    {
        switch peek() {
        case ASCII.comma:
            p += 1
            return true
        case ASCII.closeBracket:
            p += 1
            return false
        default: throw fail("expected ',' or ']' in \(context()), found \(found)")
        }
    }

    /// Whether only whitespace is left.
    mutating func atEnd() -> Bool {
        skipWhitespace()
        return p == end
    }

    // MARK: objects

    /// Calls `body` with each key of an object; `body` must consume the value.
    mutating func forEachKey(_ body: (inout JSONLineParser, String) throws(LineError) -> Void)
        throws(LineError)
    {
        try expect(ASCII.openBrace, "'{' (each line is a JSON object)")
        if peek() == ASCII.closeBrace {
            p += 1
            return
        }
        while true {
            guard peek() == ASCII.quote else { throw fail("expected a key string, found \(found)") }
            let key = try parseString()
            try expect(ASCII.colon, "':' after key \"\(key)\"")
            try body(&self, key)
            switch peek() {
            case ASCII.comma: p += 1
            case ASCII.closeBrace:
                p += 1
                return
            default: throw fail("expected ',' or '}' after the value of \"\(key)\", found \(found)")
            }
        }
    }

    // MARK: strings

    mutating func parseString() throws(LineError) -> String {
        skipWhitespace()
        let invalid = LineError(column: column, message: "string is not valid UTF-8")
        try expect(ASCII.quote, "a string")
        let contentStart = p
        // fast path: no escapes
        while p < end, p.pointee != ASCII.quote, p.pointee != ASCII.backslash {
            guard p.pointee >= 0x20 else { throw fail("control byte inside a string") }
            p += 1
        }
        guard p < end else { throw fail("unterminated string") }
        if p.pointee == ASCII.quote {
            let bytes = UnsafeBufferPointer(start: contentStart, count: p - contentStart)
            p += 1
            guard let text = String(validating: bytes, as: UTF8.self) else { throw invalid }
            return text
        }
        // slow path: decode escapes into bytes
        var bytes = Array(UnsafeBufferPointer(start: contentStart, count: p - contentStart))
        while true {
            guard p < end else { throw fail("unterminated string") }
            let byte = p.pointee
            p += 1
            switch byte {
            case ASCII.quote:
                guard let text = String(validating: bytes, as: UTF8.self) else { throw invalid }
                return text
            case ASCII.backslash:
                guard p < end else { throw fail("unterminated escape") }
                let escape = p.pointee
                p += 1
                switch escape {
                case UInt8(ascii: "\""): bytes.append(ASCII.quote)
                case UInt8(ascii: "\\"): bytes.append(ASCII.backslash)
                case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0c)
                case UInt8(ascii: "n"): bytes.append(ASCII.newline)
                case UInt8(ascii: "r"): bytes.append(ASCII.carriageReturn)
                case UInt8(ascii: "t"): bytes.append(ASCII.tab)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard end - p >= 6, p[0] == ASCII.backslash, p[1] == UInt8(ascii: "u")
                        else { throw fail("unpaired surrogate \\u\(String(scalar, radix: 16))") }
                        p += 2
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else {
                            throw fail("bad low surrogate \\u\(String(low, radix: 16))")
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else {
                        throw fail("\\u\(String(scalar, radix: 16)) is not a Unicode scalar")
                    }
                    bytes.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw fail("unknown escape \\\(String(UnicodeScalar(escape)))")
                }
            default:
                guard byte >= 0x20 else { throw fail("control byte inside a string") }
                bytes.append(byte)
            }
        }
    }

    private mutating func parseHex4() throws(LineError) -> UInt32 {
        guard end - p >= 4 else { throw fail("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = p.pointee
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"):
                digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"):
                digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("bad hex digit in \\u escape")
            }
            value = value << 4 | digit
            p += 1
        }
        return value
    }

    // MARK: numbers

    /// An integer (no fraction, no exponent) in `range`.
    @inline(__always) mutating func parseInt(in range: ClosedRange<Int>, _ what: StaticString)
        throws(LineError) -> Int
    {
        skipWhitespace()
        let numberStart = p
        var negative = false
        if p < end, p.pointee == ASCII.minus {
            negative = true
            p += 1
        }
        var value = 0
        var digits = 0
        while p < end, p.pointee >= ASCII.zero, p.pointee <= ASCII.nine {
            value = value &* 10 &+ Int(p.pointee &- ASCII.zero)
            digits += 1
            p += 1
        }
        guard digits > 0 else {
            p = numberStart
            throw fail("expected an integer for \(what), found \(found)")
        }
        if p < end, p.pointee == ASCII.dot || p.pointee == ASCII.lowerE || p.pointee == ASCII.upperE
        {
            p = numberStart
            throw fail("expected an integer for \(what), found \(found)")
        }
        if negative { value = -value }
        guard digits <= 18, range.contains(value) else {
            p = numberStart
            throw fail("\(what) \(found) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// Scans a JSON number. Returns its value when the fast path applies exactly, else nil
    /// with the cursor past the number so the caller can hand the text to the slow path.
    @inline(__always) private mutating func scanNumber(_ what: StaticString) throws(LineError) -> (
        fast: Double?, text: UnsafeBufferPointer<UInt8>
    ) {
        let numberStart = p
        var negative = false
        if p < end, p.pointee == ASCII.minus {
            negative = true
            p += 1
        }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var exact = true
        var integerDigits = 0
        while p < end, p.pointee >= ASCII.zero, p.pointee <= ASCII.nine {
            let digit = UInt64(p.pointee &- ASCII.zero)
            if significant < 19 {
                mantissa = mantissa * 10 + digit
                if mantissa != 0 { significant += 1 }
            } else {
                exponent += 1
                if digit != 0 { exact = false }
            }
            integerDigits += 1
            p += 1
        }
        guard integerDigits > 0 else {
            p = numberStart
            throw fail("expected a number for \(what), found \(found)")
        }
        if p < end, p.pointee == ASCII.dot {
            p += 1
            var fractionDigits = 0
            // eight digits at a time while they fit the 19 significant digits kept (router
            // weights and probabilities are written with 7 to 9 of them)
            while end - p >= 8, significant <= 11, let chunk = eightDigits(p) {
                let before = mantissa
                mantissa = mantissa &* 100_000_000 &+ chunk
                if before != 0 {
                    significant += 8
                } else if chunk != 0 {
                    significant = decimalDigitCount(chunk)
                }
                exponent -= 8
                fractionDigits += 8
                p += 8
            }
            while p < end, p.pointee >= ASCII.zero, p.pointee <= ASCII.nine {
                let digit = UInt64(p.pointee &- ASCII.zero)
                if significant < 19 {
                    mantissa = mantissa * 10 + digit
                    exponent -= 1
                    if mantissa != 0 { significant += 1 }
                } else if digit != 0 {
                    exact = false
                }
                fractionDigits += 1
                p += 1
            }
            guard fractionDigits > 0 else { throw fail("digits expected after '.' in \(what)") }
        }
        if p < end, p.pointee == ASCII.lowerE || p.pointee == ASCII.upperE {
            p += 1
            var exponentNegative = false
            if p < end, p.pointee == ASCII.minus || p.pointee == ASCII.plus {
                exponentNegative = p.pointee == ASCII.minus
                p += 1
            }
            var value = 0
            var exponentDigits = 0
            while p < end, p.pointee >= ASCII.zero, p.pointee <= ASCII.nine {
                if value < 100_000 { value = value * 10 + Int(p.pointee &- ASCII.zero) }
                exponentDigits += 1
                p += 1
            }
            guard exponentDigits > 0 else { throw fail("digits expected in exponent of \(what)") }
            exponent += exponentNegative ? -value : value
        }
        let text = UnsafeBufferPointer(start: numberStart, count: p - numberStart)
        guard exact else { return (nil, text) }
        if mantissa == 0 { return (negative ? -0.0 : 0.0, text) }
        guard mantissa <= 1 << 53, exponent >= -22, exponent <= 22 else { return (nil, text) }
        var value = Double(mantissa)
        value =
            exponent < 0 ? value / exactPowersOfTen[-exponent] : value * exactPowersOfTen[exponent]
        return (negative ? -value : value, text)
    }

    /// A non-finite float written as a string: "NaN", "Infinity", "-Infinity".
    private mutating func parseNonFinite(_ what: StaticString) throws(LineError) -> Double {
        let text = try parseString()
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: throw fail("expected a number for \(what), found string \"\(text)\"")
        }
    }

    @inline(__always) mutating func parseDouble(_ what: StaticString) throws(LineError) -> Double {
        skipWhitespace()
        if p < end, p.pointee == ASCII.quote { return try parseNonFinite(what) }
        let (fast, text) = try scanNumber(what)
        if let fast { return fast }
        guard let value = Double(String(decoding: text, as: UTF8.self)) else {
            throw fail("bad number for \(what)")
        }
        return value
    }

    @inline(__always) mutating func parseFloat(_ what: StaticString) throws(LineError) -> Float {
        skipWhitespace()
        if p < end, p.pointee == ASCII.quote { return Float(try parseNonFinite(what)) }
        let (fast, text) = try scanNumber(what)
        if let d = fast {
            let f = Float(d)
            if f.isFinite {
                let back = Double(f)
                if back == d { return f }
                let neighbour = d > back ? Double(f.nextUp) : Double(f.nextDown)
                if !neighbour.isFinite || (back + neighbour) / 2 != d { return f }
            }
        }
        guard let value = Float(String(decoding: text, as: UTF8.self)) else {
            throw fail("bad number for \(what)")
        }
        return value
    }

    // MARK: skipping

    /// Skips any JSON value, checking its syntax.
    mutating func skipValue(depth: Int = 0) throws(LineError) {
        guard depth < maximumNesting else { throw fail("nesting deeper than \(maximumNesting)") }
        switch peek() {
        case ASCII.quote:
            _ = try parseString()
        case ASCII.openBrace:
            try forEachKey { (parser, _) throws(LineError) in try parser.skipValue(depth: depth + 1)
            }
        case ASCII.openBracket:
            p += 1
            if peek() == ASCII.closeBracket {
                p += 1
                return
            }
            repeat { try skipValue(depth: depth + 1) } while try arrayContinues("an array")
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default:
            _ = try scanNumber("a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(LineError) {
        let count = word.utf8CodeUnitCount
        guard end - p >= count, memcmpEqual(p, word.utf8Start, count) else {
            throw fail("expected \(word), found \(found)")
        }
        p += count
    }
}

/// The value of the eight ASCII digits at `p`, or nil when any of the eight bytes is not a
/// digit. SWAR: the bytes are read as one little-endian word, checked together, and combined
/// pairwise (2 digits, then 4, then 8) by three multiplications.
@inline(__always) private func eightDigits(_ p: UnsafePointer<UInt8>) -> UInt64? {
    let word = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
    // every byte is 0x30...0x39: high nibble 3, and adding 6 does not carry into it
    let highNibbles = word & 0xF0F0_F0F0_F0F0_F0F0
    let carried = (word &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0
    guard highNibbles | (carried >> 4) == 0x3333_3333_3333_3333 else { return nil }
    // byte i holds digit i (the first digit in the lowest byte)
    var v = word & 0x0F0F_0F0F_0F0F_0F0F
    v = (v &* (10 << 8 + 1)) >> 8  // byte pairs: 10 * d[2i] + d[2i+1] in the low byte
    v = ((v & 0x00FF_00FF_00FF_00FF) &* (100 << 16 + 1)) >> 16  // 4-digit groups
    v = ((v & 0x0000_FFFF_0000_FFFF) &* (10_000 << 32 + 1)) >> 32  // all 8
    return v
}

/// Decimal digits of `value` (1...99_999_999).
@inline(__always) private func decimalDigitCount(_ value: UInt64) -> Int {
    if value >= 10_000 {
        if value >= 1_000_000 { return value >= 10_000_000 ? 8 : 7 }
        return value >= 100_000 ? 6 : 5
    }
    if value >= 100 { return value >= 1_000 ? 4 : 3 }
    return value >= 10 ? 2 : 1
}

@inline(__always) private func memcmpEqual(
    _ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int
) -> Bool {
    for index in 0..<count where a[index] != b[index] { return false }
    return true
}
