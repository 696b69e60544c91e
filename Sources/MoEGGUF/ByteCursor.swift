/// A bounds-checked reading position in a file's bytes. Every read checks the bytes left first,
/// so a truncated or lying file produces a `GGUFError`, never an out-of-bounds load.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var position = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    /// Bytes left after the current position.
    var remaining: Int { bytes.count - position }

    /// An error located at the current position.
    func error(_ reason: GGUFError.Reason, at offset: Int? = nil) -> GGUFError {
        GGUFError(path: path, offset: offset ?? position, reason: reason)
    }

    /// Throws `truncated` unless `count` more bytes exist.
    func require(_ count: Int, for field: @autoclosure () -> String) throws(GGUFError) {
        if count > remaining {
            throw error(.truncated(field: field(), needed: count, available: remaining))
        }
    }

    /// Reads a little-endian integer.
    mutating func read<T: FixedWidthInteger>(_: T.Type, _ field: @autoclosure () -> String)
        throws(GGUFError) -> T
    {
        try require(MemoryLayout<T>.size, for: field())
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        position += MemoryLayout<T>.size
        return value
    }

    /// Reads a GGUF string (u64 length, then bytes), checking the length against the file.
    mutating func string(_ field: @autoclosure () -> String) throws(GGUFError) -> String {
        let range = try stringRange(field())
        return String(decoding: bytes[range], as: UTF8.self)
    }

    /// Reads a GGUF string's length and steps over its bytes; returns where the bytes are.
    mutating func stringRange(_ field: @autoclosure () -> String) throws(GGUFError) -> Range<Int> {
        let lengthOffset = position
        let length = try read(UInt64.self, "\(field()) length")
        guard length <= UInt64(remaining) else {
            throw error(
                .stringTooLong(field: field(), length: length, available: remaining),
                at: lengthOffset)
        }
        let start = position
        position += Int(length)
        return start..<position
    }

    /// Steps over `count` bytes that `require` has already checked.
    mutating func skip(_ count: Int) {
        precondition(count <= remaining)
        position += count
    }
}
