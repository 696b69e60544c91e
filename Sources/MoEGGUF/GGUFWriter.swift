import Foundation

/// Writes GGUF version 3 files (little-endian) that gguf-py and llama.cpp read back.
///
/// Metadata and tensors are written in the order they were added. Tensor data starts at the
/// first multiple of `alignment` after the header, and each tensor is padded with zeros to the
/// next multiple, as gguf-py does. Tensor bytes come either from an array or from a closure
/// that fills them when the file is written (so a synthetic gigabyte never sits in memory).
public struct GGUFWriter {
    /// The data alignment. A value other than 32 is written as `general.alignment` (UINT32)
    /// after the other metadata unless the caller added that key.
    public let alignment: Int
    private var entries: [(key: String, value: GGUFValue)] = []
    private var keys: Set<String> = []
    private var tensors: [PendingTensor] = []
    private var tensorNames: Set<String> = []

    private struct PendingTensor {
        let name: String
        let type: GGMLType
        let shape: [Int]
        let byteCount: Int
        let fill: (UnsafeMutableRawBufferPointer) -> Void
    }

    /// A writer with the given data alignment (a power of two).
    public init(alignment: Int = GGUFFile.defaultAlignment) {
        precondition(
            alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
        self.alignment = alignment
    }

    /// Adds a metadata entry. Keys must be non-empty and unique.
    public mutating func add(_ key: String, _ value: GGUFValue) {
        precondition(!key.isEmpty, "empty metadata key")
        precondition(keys.insert(key).inserted, "metadata key '\(key)' added twice")
        if case .array(let array) = value {
            precondition(array.elementType != .array, "nested arrays are not written")
        }
        if key == "general.alignment" {
            precondition(
                value.integer == alignment, "general.alignment must equal the writer's alignment")
        }
        entries.append((key, value))
    }

    /// Adds a tensor from its stored bytes. `shape` is in ggml order (ne[0] first).
    public mutating func addTensor(_ name: String, type: GGMLType, shape: [Int], bytes: [UInt8]) {
        let byteCount = Self.byteCount(name, type, shape)
        precondition(
            bytes.count == byteCount,
            "tensor '\(name)' needs \(byteCount) bytes, got \(bytes.count)")
        appendTensor(
            PendingTensor(name: name, type: type, shape: shape, byteCount: byteCount) { buffer in
                buffer.copyBytes(from: bytes)
            })
    }

    /// Adds a tensor from Float32 values, quantised to `type` (see `quantizeRow`).
    public mutating func addTensor(_ name: String, type: GGMLType, shape: [Int], values: [Float]) {
        precondition(
            values.count == shape.reduce(1, *), "tensor '\(name)': values do not match the shape")
        addTensor(name, type: type, shape: shape, bytes: quantize(values, to: type))
    }

    /// Adds a tensor whose `byteCount` bytes `fill` writes when the file is written.
    public mutating func addTensor(
        _ name: String, type: GGMLType, shape: [Int],
        fill: @escaping (UnsafeMutableRawBufferPointer) -> Void
    ) {
        appendTensor(
            PendingTensor(
                name: name, type: type, shape: shape, byteCount: Self.byteCount(name, type, shape),
                fill: fill))
    }

    private mutating func appendTensor(_ tensor: PendingTensor) {
        precondition(
            tensorNames.insert(tensor.name).inserted, "tensor '\(tensor.name)' added twice")
        tensors.append(tensor)
    }

    private static func byteCount(_ name: String, _ type: GGMLType, _ shape: [Int]) -> Int {
        precondition(
            (1...GGUFFile.maximumDimensions).contains(shape.count),
            "tensor '\(name)': 1 to 4 dimensions")
        precondition(shape.allSatisfy { $0 > 0 }, "tensor '\(name)': dimensions must be positive")
        guard let rowBytes = type.rowBytes(columns: shape[0]) else {
            preconditionFailure(
                "tensor '\(name)': ne[0] = \(shape[0]) is not whole \(type.name) blocks")
        }
        return rowBytes * shape.dropFirst().reduce(1, *)
    }

    private func padded(_ size: Int) -> Int { (size + alignment - 1) / alignment * alignment }

    /// The header: magic, version, counts, metadata, tensor infos, and padding to the
    /// alignment (when there are tensors).
    public func header() -> [UInt8] {
        var entries = entries
        if alignment != GGUFFile.defaultAlignment, !keys.contains("general.alignment") {
            entries.append(("general.alignment", .uint32(UInt32(alignment))))
        }
        var out: [UInt8] = Array("GGUF".utf8)
        appendLittleEndian(UInt32(3), to: &out)
        appendLittleEndian(UInt64(tensors.count), to: &out)
        appendLittleEndian(UInt64(entries.count), to: &out)
        for (key, value) in entries {
            Self.appendString(key, to: &out)
            appendLittleEndian(value.type.rawValue, to: &out)
            Self.appendValue(value, to: &out)
        }
        var offset = 0
        for tensor in tensors {
            Self.appendString(tensor.name, to: &out)
            appendLittleEndian(UInt32(tensor.shape.count), to: &out)
            for dimension in tensor.shape { appendLittleEndian(UInt64(dimension), to: &out) }
            appendLittleEndian(tensor.type.rawValue, to: &out)
            appendLittleEndian(UInt64(offset), to: &out)
            offset += padded(tensor.byteCount)
        }
        if !tensors.isEmpty {
            out.append(contentsOf: repeatElement(0, count: padded(out.count) - out.count))
        }
        return out
    }

    /// The whole file in memory (for tests and small files).
    public func bytes() -> [UInt8] {
        var out = header()
        for tensor in tensors {
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: padded(tensor.byteCount)))
            out.withUnsafeMutableBytes { buffer in
                tensor.fill(
                    UnsafeMutableRawBufferPointer(
                        rebasing: buffer[start..<start + tensor.byteCount]))
            }
        }
        return out
    }

    /// Writes the file to `path`; tensors are filled one at a time.
    ///
    /// The bytes go to a temporary file beside the target, renamed over it at the end, so an
    /// interrupted write leaves any earlier file at `path` whole. A symbolic link is followed
    /// (its target is replaced, not the link); a path that exists and is not a regular file (a
    /// device, a directory) is refused rather than replaced.
    public func write(to path: String) throws(GGUFError) {
        func failure(_ message: String) -> GGUFError {
            GGUFError(path: path, offset: nil, reason: .writeFailed(message: message))
        }
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var status = stat()
        if lstat(target, &status) == 0, (status.st_mode & S_IFMT) != S_IFREG {
            throw failure("it exists and is not a regular file; refusing to replace it")
        }
        let temporary = target + ".partial-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw failure("cannot create \(temporary)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            defer { try? handle.close() }
            try handle.write(contentsOf: header())
            for tensor in tensors {
                var buffer = [UInt8](repeating: 0, count: padded(tensor.byteCount))
                buffer.withUnsafeMutableBytes { raw in
                    tensor.fill(UnsafeMutableRawBufferPointer(rebasing: raw[0..<tensor.byteCount]))
                }
                try handle.write(contentsOf: buffer)
            }
        } catch {
            unlink(temporary)
            throw failure("\(error)")
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw failure("cannot rename \(temporary) to \(target): \(reason)")
        }
    }

    private static func appendString(_ string: String, to out: inout [UInt8]) {
        appendLittleEndian(UInt64(string.utf8.count), to: &out)
        out.append(contentsOf: string.utf8)
    }

    private static func appendValue(_ value: GGUFValue, to out: inout [UInt8]) {
        switch value {
        case .uint8(let v): appendLittleEndian(v, to: &out)
        case .int8(let v): appendLittleEndian(v, to: &out)
        case .uint16(let v): appendLittleEndian(v, to: &out)
        case .int16(let v): appendLittleEndian(v, to: &out)
        case .uint32(let v): appendLittleEndian(v, to: &out)
        case .int32(let v): appendLittleEndian(v, to: &out)
        case .float32(let v): appendLittleEndian(v.bitPattern, to: &out)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let v): appendString(v, to: &out)
        case .uint64(let v): appendLittleEndian(v, to: &out)
        case .int64(let v): appendLittleEndian(v, to: &out)
        case .float64(let v): appendLittleEndian(v.bitPattern, to: &out)
        case .array(let array):
            appendLittleEndian(array.elementType.rawValue, to: &out)
            appendLittleEndian(UInt64(array.count), to: &out)
            array.withEncodedBytes { out.append(contentsOf: $0) }
        }
    }
}
