/// The type id of a GGUF metadata value (`gguf_type`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0
    case int8 = 1
    case uint16 = 2
    case int16 = 3
    case uint32 = 4
    case int32 = 5
    case float32 = 6
    case bool = 7
    case string = 8
    case array = 9
    case uint64 = 10
    case int64 = 11
    case float64 = 12

    /// Bytes of one value of this type, or nil for strings and arrays (variable size).
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// The name gguf-py uses (`UINT32`, `STRING`, ...).
    public var name: String {
        switch self {
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .uint32: "UINT32"
        case .int32: "INT32"
        case .float32: "FLOAT32"
        case .bool: "BOOL"
        case .string: "STRING"
        case .array: "ARRAY"
        case .uint64: "UINT64"
        case .int64: "INT64"
        case .float64: "FLOAT64"
        }
    }

    /// Whether values of this type are integers (any width, any sign).
    public var isInteger: Bool {
        switch self {
        case .uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64: true
        default: false
        }
    }
}

/// One metadata value.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The stored type.
    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// The value as an `Int` when it is an integer of any width that fits.
    public var integer: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// The value as a `Float` when it is FLOAT32 or FLOAT64.
    public var float: Float? {
        switch self {
        case .float32(let v): v
        case .float64(let v): Float(v)
        default: nil
        }
    }

    /// A short human description of the type, for error messages (`UINT32`, `ARRAY of STRING`).
    public var typeDescription: String {
        if case .array(let array) = self {
            return "ARRAY of \(array.elementType.name)"
        }
        return type.name
    }
}

/// An array value: `count` elements of one type, kept in their GGUF encoding (little-endian,
/// strings as u64 length + bytes) and decoded on demand, so that opening a file with a
/// 150 000-token vocabulary costs one pass over the bytes and no allocations per token.
public struct GGUFArray: Sendable, Equatable {
    /// The element type (never `.array`: nested arrays are refused).
    public let elementType: GGUFValueType
    /// Number of elements.
    public let count: Int
    let storage: ByteStorage

    init(elementType: GGUFValueType, count: Int, storage: ByteStorage) {
        self.elementType = elementType
        self.count = count
        self.storage = storage
    }

    public static func == (lhs: GGUFArray, rhs: GGUFArray) -> Bool {
        lhs.elementType == rhs.elementType && lhs.count == rhs.count
            && lhs.storage.withBytes { a in rhs.storage.withBytes { b in a.elementsEqual(b) } }
    }

    /// The encoded element bytes, exactly as they appear in a file.
    public func withEncodedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withBytes(body)
    }

    // MARK: building arrays (for the writer)

    /// An array of strings.
    public init(strings: [String]) {
        var bytes: [UInt8] = []
        for string in strings {
            appendLittleEndian(UInt64(string.utf8.count), to: &bytes)
            bytes.append(contentsOf: string.utf8)
        }
        self.init(elementType: .string, count: strings.count, storage: .owned(bytes))
    }

    /// An array of booleans (one byte each).
    public init(bools: [Bool]) {
        self.init(elementType: .bool, count: bools.count, storage: .owned(bools.map { $0 ? 1 : 0 }))
    }

    /// An array of FLOAT32.
    public init(float32 values: [Float]) {
        self.init(integers: values.map(\.bitPattern), as: .float32)
    }

    /// An array of FLOAT64.
    public init(float64 values: [Double]) {
        self.init(integers: values.map(\.bitPattern), as: .float64)
    }

    /// An array of UINT8.
    public init(uint8 values: [UInt8]) { self.init(integers: values, as: .uint8) }
    /// An array of INT8.
    public init(int8 values: [Int8]) { self.init(integers: values, as: .int8) }
    /// An array of UINT16.
    public init(uint16 values: [UInt16]) { self.init(integers: values, as: .uint16) }
    /// An array of INT16.
    public init(int16 values: [Int16]) { self.init(integers: values, as: .int16) }
    /// An array of UINT32.
    public init(uint32 values: [UInt32]) { self.init(integers: values, as: .uint32) }
    /// An array of INT32.
    public init(int32 values: [Int32]) { self.init(integers: values, as: .int32) }
    /// An array of UINT64.
    public init(uint64 values: [UInt64]) { self.init(integers: values, as: .uint64) }
    /// An array of INT64.
    public init(int64 values: [Int64]) { self.init(integers: values, as: .int64) }

    private init<T: FixedWidthInteger>(integers values: [T], as type: GGUFValueType) {
        precondition(type.fixedSize == MemoryLayout<T>.size)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * MemoryLayout<T>.size)
        for value in values { appendLittleEndian(value, to: &bytes) }
        self.init(elementType: type, count: values.count, storage: .owned(bytes))
    }

    // MARK: reading arrays

    /// The elements as strings, or nil when the elements are not strings. Invalid UTF-8 is
    /// replaced by U+FFFD.
    public func strings() -> [String]? {
        guard elementType == .string else { return nil }
        return storage.withBytes { raw in
            var result: [String] = []
            result.reserveCapacity(count)
            var position = 0
            for _ in 0..<count {
                let length = Int(
                    UInt64(
                        littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)))
                position += 8
                result.append(String(decoding: raw[position..<position + length], as: UTF8.self))
                position += length
            }
            return result
        }
    }

    /// The elements as `Int`, or nil when they are not integers or one does not fit.
    public func integers() -> [Int]? {
        guard elementType.isInteger else { return nil }
        var result: [Int] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            guard let value = element(index).integer else { return nil }
            result.append(value)
        }
        return result
    }

    /// The elements as `Float` (from FLOAT32 or FLOAT64), or nil for other types.
    public func floats() -> [Float]? {
        guard elementType == .float32 || elementType == .float64 else { return nil }
        return (0..<count).map { element($0).float! }
    }

    /// The elements as `Bool`, or nil for other types.
    public func bools() -> [Bool]? {
        guard elementType == .bool else { return nil }
        return (0..<count).map { if case .bool(let b) = element($0) { b } else { false } }
    }

    /// Element `index` as a value (a string element is found by walking the lengths before it).
    public func element(_ index: Int) -> GGUFValue {
        precondition(index >= 0 && index < count, "array index out of range")
        return storage.withBytes { raw in
            guard let size = elementType.fixedSize else {
                var position = 0
                for _ in 0..<index {
                    position +=
                        8
                        + Int(
                            UInt64(
                                littleEndian: raw.loadUnaligned(
                                    fromByteOffset: position, as: UInt64.self)))
                }
                let length = Int(
                    UInt64(
                        littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)))
                return .string(
                    String(decoding: raw[position + 8..<position + 8 + length], as: UTF8.self))
            }
            return decodeFixed(elementType, raw, at: index * size)
        }
    }
}

/// Bytes a value lives in: a range of the mapped file (kept alive by the mapping) or an owned
/// buffer built in memory.
enum ByteStorage: @unchecked Sendable {
    case mapped(MappedRegion, offset: Int, length: Int)
    case owned([UInt8])

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .mapped(let region, let offset, let length):
            return try body(
                UnsafeRawBufferPointer(rebasing: region.bytes[offset..<offset + length]))
        case .owned(let bytes):
            return try bytes.withUnsafeBytes(body)
        }
    }
}

/// Decodes one fixed-size value of `type` at `offset` (the caller checked the bounds).
func decodeFixed(_ type: GGUFValueType, _ raw: UnsafeRawBufferPointer, at offset: Int) -> GGUFValue
{
    func load<T: FixedWidthInteger>(_: T.Type) -> T {
        T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
    switch type {
    case .uint8: return .uint8(load(UInt8.self))
    case .int8: return .int8(load(Int8.self))
    case .uint16: return .uint16(load(UInt16.self))
    case .int16: return .int16(load(Int16.self))
    case .uint32: return .uint32(load(UInt32.self))
    case .int32: return .int32(load(Int32.self))
    case .float32: return .float32(Float(bitPattern: load(UInt32.self)))
    case .bool: return .bool(load(UInt8.self) != 0)
    case .uint64: return .uint64(load(UInt64.self))
    case .int64: return .int64(load(Int64.self))
    case .float64: return .float64(Double(bitPattern: load(UInt64.self)))
    case .string, .array: preconditionFailure("not a fixed-size type")
    }
}

/// Appends `value` in little-endian byte order.
func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}
