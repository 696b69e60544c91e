/// The key-value metadata of a GGUF file, in file order, with typed accessors.
///
/// Accessors come in pairs: `requiredX` throws `missingKey` when the key is absent, `optionalX`
/// returns nil; both throw `wrongType` when the stored type cannot be read as X. Integers of any
/// width and sign are accepted where an `Int` is asked for (the spec allows u32 or u64 for
/// counts); FLOAT32 and FLOAT64 are accepted where a `Float` is asked for.
public struct GGUFMetadata: Sendable {
    /// The file the metadata came from (for error messages).
    public let path: String
    /// Keys in file order.
    public private(set) var keys: [String] = []
    private var entries: [String: (value: GGUFValue, offset: Int?)] = [:]

    init(path: String) { self.path = path }

    /// Adds a key (the reader checks for duplicates before calling this).
    mutating func append(_ key: String, _ value: GGUFValue, offset: Int?) {
        keys.append(key)
        entries[key] = (value, offset)
    }

    /// Whether `key` is present.
    public func contains(_ key: String) -> Bool { entries[key] != nil }

    /// The raw value for `key`.
    public subscript(key: String) -> GGUFValue? { entries[key]?.value }

    /// The byte offset of `key`'s entry in the file, when it came from a file.
    public func offset(of key: String) -> Int? { entries[key]?.offset }

    /// Number of keys.
    public var count: Int { keys.count }

    /// An error about `key`, located at its entry.
    public func error(_ key: String, _ reason: GGUFError.Reason) -> GGUFError {
        GGUFError(path: path, offset: offset(of: key), reason: reason)
    }

    private func wrongType(_ key: String, expected: String, _ value: GGUFValue) -> GGUFError {
        error(key, .wrongType(key: key, expected: expected, found: value.typeDescription))
    }

    private func required<T>(_ key: String, _ read: (String) throws(GGUFError) -> T?)
        throws(GGUFError) -> T
    {
        guard let value = try read(key) else {
            throw GGUFError(path: path, offset: nil, reason: .missingKey(key: key))
        }
        return value
    }

    // MARK: scalars

    /// An integer of any width; throws if it does not fit in `Int`.
    public func optionalInt(_ key: String) throws(GGUFError) -> Int? {
        guard let value = self[key] else { return nil }
        guard value.type.isInteger else { throw wrongType(key, expected: "an integer", value) }
        guard let integer = value.integer else {
            throw error(
                key, .invalidValue(key: key, found: "\(value)", expected: "at most \(Int.max)"))
        }
        return integer
    }

    /// An integer of any width that must be present.
    public func requiredInt(_ key: String) throws(GGUFError) -> Int {
        try required(key, optionalInt)
    }

    /// FLOAT32 or FLOAT64 as `Float`.
    public func optionalFloat(_ key: String) throws(GGUFError) -> Float? {
        guard let value = self[key] else { return nil }
        guard let float = value.float else {
            throw wrongType(key, expected: "FLOAT32 or FLOAT64", value)
        }
        return float
    }

    /// FLOAT32 or FLOAT64 as `Float`, required.
    public func requiredFloat(_ key: String) throws(GGUFError) -> Float {
        try required(key, optionalFloat)
    }

    /// A BOOL.
    public func optionalBool(_ key: String) throws(GGUFError) -> Bool? {
        guard let value = self[key] else { return nil }
        guard case .bool(let bool) = value else { throw wrongType(key, expected: "BOOL", value) }
        return bool
    }

    /// A BOOL, required.
    public func requiredBool(_ key: String) throws(GGUFError) -> Bool {
        try required(key, optionalBool)
    }

    /// A STRING.
    public func optionalString(_ key: String) throws(GGUFError) -> String? {
        guard let value = self[key] else { return nil }
        guard case .string(let string) = value else {
            throw wrongType(key, expected: "STRING", value)
        }
        return string
    }

    /// A STRING, required.
    public func requiredString(_ key: String) throws(GGUFError) -> String {
        try required(key, optionalString)
    }

    // MARK: arrays

    /// An ARRAY of any type.
    public func optionalArray(_ key: String) throws(GGUFError) -> GGUFArray? {
        guard let value = self[key] else { return nil }
        guard case .array(let array) = value else { throw wrongType(key, expected: "ARRAY", value) }
        return array
    }

    /// An ARRAY of STRING.
    public func optionalStrings(_ key: String) throws(GGUFError) -> [String]? {
        guard let array = try optionalArray(key) else { return nil }
        guard let strings = array.strings() else {
            throw wrongType(key, expected: "ARRAY of STRING", self[key]!)
        }
        return strings
    }

    /// An ARRAY of STRING, required.
    public func requiredStrings(_ key: String) throws(GGUFError) -> [String] {
        try required(key, optionalStrings)
    }

    /// An ARRAY of integers of any width.
    public func optionalInts(_ key: String) throws(GGUFError) -> [Int]? {
        guard let array = try optionalArray(key) else { return nil }
        guard array.elementType.isInteger else {
            throw wrongType(key, expected: "ARRAY of integers", self[key]!)
        }
        guard let integers = array.integers() else {
            throw error(
                key,
                .invalidValue(
                    key: key, found: "an element above \(Int.max)",
                    expected: "integers that fit in 64-bit signed"))
        }
        return integers
    }

    /// An ARRAY of integers, required.
    public func requiredInts(_ key: String) throws(GGUFError) -> [Int] {
        try required(key, optionalInts)
    }

    /// An ARRAY of FLOAT32 or FLOAT64.
    public func optionalFloats(_ key: String) throws(GGUFError) -> [Float]? {
        guard let array = try optionalArray(key) else { return nil }
        guard let floats = array.floats() else {
            throw wrongType(key, expected: "ARRAY of FLOAT32 or FLOAT64", self[key]!)
        }
        return floats
    }

    /// An ARRAY of FLOAT32 or FLOAT64, required.
    public func requiredFloats(_ key: String) throws(GGUFError) -> [Float] {
        try required(key, optionalFloats)
    }

    /// An ARRAY of BOOL.
    public func optionalBools(_ key: String) throws(GGUFError) -> [Bool]? {
        guard let array = try optionalArray(key) else { return nil }
        guard let bools = array.bools() else {
            throw wrongType(key, expected: "ARRAY of BOOL", self[key]!)
        }
        return bools
    }

    /// A hyper-parameter that may be one integer for all layers or an array with one entry per
    /// layer (llama.cpp's `get_key_or_arr`): returns `layers` values, or nil when absent.
    /// Throws when an array's length is not `layers`.
    public func optionalPerLayerInts(_ key: String, layers: Int) throws(GGUFError) -> [Int]? {
        guard let value = self[key] else { return nil }
        if case .array = value {
            let values = try optionalInts(key)!
            guard values.count == layers else {
                throw error(
                    key,
                    .invalidValue(
                        key: key, found: "an array of \(values.count) entries",
                        expected: "one entry per layer (\(layers), from block_count)"))
            }
            return values
        }
        let single = try optionalInt(key)!
        return Array(repeating: single, count: layers)
    }

    /// A per-layer integer hyper-parameter that must be present.
    public func requiredPerLayerInts(_ key: String, layers: Int) throws(GGUFError) -> [Int] {
        guard let values = try optionalPerLayerInts(key, layers: layers) else {
            throw GGUFError(path: path, offset: nil, reason: .missingKey(key: key))
        }
        return values
    }
}
