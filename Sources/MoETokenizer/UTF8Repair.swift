// Incremental UTF-8 decoding for token streams: complete characters come out as soon as their
// last byte arrives, an incomplete one is held back, and every maximal invalid subpart becomes
// one U+FFFD (Unicode's recommended practice, the same as Python's "replace", Rust's
// `from_utf8_lossy` and Swift's `String(decoding:)`). Feeding bytes in any chunks gives the same
// text as decoding them all at once.

/// A UTF-8 decoder that may be fed partial sequences.
struct UTF8Repair: Sendable {
    /// Bytes of an incomplete (so far valid) sequence, at most 3.
    private(set) var pending: [UInt8] = []

    static let replacement: Unicode.Scalar = "\u{FFFD}"

    /// Decodes `bytes` after the pending ones, appending what is complete to `output`.
    mutating func decode<Bytes: Collection>(_ bytes: Bytes, into output: inout String)
    where Bytes.Element == UInt8 {
        var buffer = pending
        buffer.append(contentsOf: bytes)
        pending.removeAll(keepingCapacity: true)
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < buffer.count {
            let lead = buffer[index]
            if lead < 0x80 {
                scalars.append(Unicode.Scalar(lead))
                index += 1
                continue
            }
            // expected length and the valid range of the second byte (Unicode table 3-7)
            let length: Int
            var secondLow: UInt8 = 0x80
            var secondHigh: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; secondLow = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; secondHigh = 0x9F
            case 0xF0: length = 4; secondLow = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; secondHigh = 0x8F
            default:
                scalars.append(Self.replacement)
                index += 1
                continue
            }
            var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            var taken = 1
            var invalid = false
            while taken < length {
                guard index + taken < buffer.count else { break }
                let byte = buffer[index + taken]
                let low = taken == 1 ? secondLow : 0x80
                let high = taken == 1 ? secondHigh : 0xBF
                guard byte >= low && byte <= high else {
                    invalid = true
                    break
                }
                value = (value << 6) | UInt32(byte & 0x3F)
                taken += 1
            }
            if invalid {
                // the maximal subpart is the bytes taken so far
                scalars.append(Self.replacement)
                index += taken
            } else if taken < length {
                // incomplete at the end: wait for more bytes
                pending.append(contentsOf: buffer[index...])
                index = buffer.count
            } else {
                scalars.append(Unicode.Scalar(value)!)
                index += length
            }
        }
        output.unicodeScalars.append(contentsOf: scalars)
    }

    /// Ends the stream: an incomplete sequence becomes one U+FFFD.
    mutating func finish(into output: inout String) {
        if !pending.isEmpty {
            output.unicodeScalars.append(Self.replacement)
            pending.removeAll()
        }
    }
}
