// Writing JSON values straight into a byte buffer, for trace lines. Numbers use Swift's
// shortest round-trip representation, so a reader that rounds correctly gets the same bits
// back. Non-finite floats are not JSON numbers; they are written as the strings "NaN",
// "Infinity" and "-Infinity", which the trace reader accepts wherever a float is expected.

enum ASCII {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let tab = UInt8(ascii: "\t")
    static let space = UInt8(ascii: " ")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
    static let lowerE = UInt8(ascii: "e")
    static let upperE = UInt8(ascii: "E")
}

extension Array where Element == UInt8 {
    mutating func appendASCII(_ text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }

    mutating func appendJSON(_ value: Int) {
        append(contentsOf: value.description.utf8)
    }

    mutating func appendJSON(_ value: Float) {
        guard value.isFinite else {
            appendASCII(value.isNaN ? "\"NaN\"" : value > 0 ? "\"Infinity\"" : "\"-Infinity\"")
            return
        }
        append(contentsOf: value.description.utf8)
    }

    mutating func appendJSON(_ value: Double) {
        guard value.isFinite else {
            appendASCII(value.isNaN ? "\"NaN\"" : value > 0 ? "\"Infinity\"" : "\"-Infinity\"")
            return
        }
        append(contentsOf: value.description.utf8)
    }

    /// A JSON string: `"`, `\` and control characters escaped, everything else as UTF-8.
    mutating func appendJSON(_ value: String) {
        append(ASCII.quote)
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in value.utf8 {
            switch byte {
            case ASCII.quote: appendASCII("\\\"")
            case ASCII.backslash: appendASCII("\\\\")
            case ASCII.newline: appendASCII("\\n")
            case ASCII.carriageReturn: appendASCII("\\r")
            case ASCII.tab: appendASCII("\\t")
            case 0..<0x20, 0x7f:
                appendASCII("\\u00")
                append(hex[Int(byte >> 4)])
                append(hex[Int(byte & 0xf)])
            default: append(byte)
            }
        }
        append(ASCII.quote)
    }

    /// `"name":`
    mutating func appendKey(_ name: StaticString) {
        append(ASCII.quote)
        appendASCII(name)
        append(ASCII.quote)
        append(ASCII.colon)
    }

    mutating func appendJSONArray<C: Collection>(_ values: C) where C.Element == Float {
        append(ASCII.openBracket)
        var first = true
        for value in values {
            if !first { append(ASCII.comma) }
            first = false
            appendJSON(value)
        }
        append(ASCII.closeBracket)
    }

    mutating func appendJSONArray<C: Collection>(_ values: C) where C.Element == Int32 {
        append(ASCII.openBracket)
        var first = true
        for value in values {
            if !first { append(ASCII.comma) }
            first = false
            appendJSON(Int(value))
        }
        append(ASCII.closeBracket)
    }
}
