import Foundation

/// A GGUF file (version 2 or 3), memory-mapped and completely validated when opened.
///
/// Opening reads the header, the metadata and the tensor infos; tensor data is only touched
/// when a caller reads it through `bytes(of:)`. Everything is checked on open: counts and
/// lengths against the bytes left, dimensions and sizes with overflow-checked arithmetic,
/// tensor types, alignment, bounds, duplicates and overlaps. After init the object is
/// immutable, so it is safe to share between threads.
public final class GGUFFile: @unchecked Sendable {
    /// The path the file was opened from.
    public let path: String
    /// The GGUF version (2 or 3).
    public let version: UInt32
    /// Bytes in the file.
    public let fileSize: Int
    /// The data alignment (`general.alignment`, default 32).
    public let alignment: Int
    /// Where the tensor data section starts (a multiple of `alignment`).
    public let dataOffset: Int
    /// The metadata, in file order.
    public let metadata: GGUFMetadata
    /// The tensors, in file order.
    public let tensors: [GGUFTensorInfo]

    private let tensorIndex: [String: Int]
    private let region: MappedRegion

    /// ggml's default alignment when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// ggml's limit on tensor name length (GGML_MAX_NAME 64, including the terminator).
    public static let maximumTensorNameLength = 63
    /// ggml's limit on dimensions (GGML_MAX_DIMS).
    public static let maximumDimensions = 4

    /// Opens and validates the file at `path`.
    public convenience init(path: String) throws(GGUFError) {
        try self.init(region: MappedRegion(path: path), path: path)
    }

    /// Opens and validates the file at `url`.
    public convenience init(url: URL) throws(GGUFError) {
        try self.init(path: url.path)
    }

    /// Parses a GGUF image held in memory (tests, fuzzing). `path` is used in error messages.
    public convenience init(bytes: [UInt8], path: String = "<memory>") throws(GGUFError) {
        try self.init(region: MappedRegion(copying: bytes), path: path)
    }

    private init(region: MappedRegion, path: String) throws(GGUFError) {
        self.region = region
        self.path = path
        self.fileSize = region.bytes.count
        var cursor = ByteCursor(bytes: region.bytes, path: path)

        // header: magic, version, counts
        try cursor.require(4, for: "magic")
        let magic = Array(region.bytes[0..<4])
        guard magic == Array("GGUF".utf8) else { throw cursor.error(.badMagic(found: magic)) }
        cursor.skip(4)
        let versionOffset = cursor.position
        let version = try cursor.read(UInt32.self, "version")
        if version & 0xFFFF == 0 {
            throw cursor.error(.bigEndian(version: version), at: versionOffset)
        }
        guard version == 2 || version == 3 else {
            throw cursor.error(.unsupportedVersion(found: version), at: versionOffset)
        }
        self.version = version
        let tensorCountOffset = cursor.position
        let tensorCount = try cursor.read(UInt64.self, "tensor_count")
        let keyCountOffset = cursor.position
        let keyCount = try cursor.read(UInt64.self, "kv_count")
        // A count larger than the file's size in bytes is absurd (every record takes bytes);
        // smaller counts are checked record by record as they are read.
        guard keyCount <= UInt64(fileSize) else {
            throw cursor.error(
                .countTooLarge(field: "kv_count", count: keyCount, limit: UInt64(fileSize)),
                at: keyCountOffset)
        }
        guard tensorCount <= UInt64(fileSize) else {
            throw cursor.error(
                .countTooLarge(field: "tensor_count", count: tensorCount, limit: UInt64(fileSize)),
                at: tensorCountOffset)
        }

        // metadata
        var metadata = GGUFMetadata(path: path)
        for index in 0..<Int(keyCount) {
            let entryOffset = cursor.position
            let key = try cursor.string("key of metadata entry \(index)")
            guard !key.isEmpty else { throw cursor.error(.emptyKey, at: entryOffset) }
            guard !metadata.contains(key) else {
                throw cursor.error(.duplicateKey(key: key), at: entryOffset)
            }
            let value = try Self.readValue(&cursor, key: key, region: region)
            metadata.append(key, value, offset: entryOffset)
        }
        self.metadata = metadata

        // alignment
        var alignment = Self.defaultAlignment
        if let value = metadata["general.alignment"] {
            guard value.type.isInteger else {
                throw metadata.error(
                    "general.alignment",
                    .wrongType(
                        key: "general.alignment", expected: "UINT32", found: value.typeDescription))
            }
            let found: UInt64 =
                switch value {
                case .int8(let v): UInt64(bitPattern: Int64(v))
                case .int16(let v): UInt64(bitPattern: Int64(v))
                case .int32(let v): UInt64(bitPattern: Int64(v))
                case .int64(let v): UInt64(bitPattern: v)
                default: UInt64(value.integer ?? 0)
                }
            guard found > 0, found & (found - 1) == 0, found <= 1 << 30 else {
                throw metadata.error("general.alignment", .badAlignment(found: found))
            }
            alignment = Int(found)
        }
        self.alignment = alignment

        // tensor infos
        var tensors: [GGUFTensorInfo] = []
        var relativeOffsets: [(offset: UInt64, infoOffset: Int)] = []
        var tensorIndex: [String: Int] = [:]
        // the smallest tensor info: name length + 1 byte, n_dims, one dimension, type, offset
        tensors.reserveCapacity(min(Int(tensorCount), cursor.remaining / 33))
        for index in 0..<Int(tensorCount) {
            let infoOffset = cursor.position
            let nameRange = try cursor.stringRange("name of tensor \(index)")
            let name = String(decoding: region.bytes[nameRange], as: UTF8.self)
            guard (1...Self.maximumTensorNameLength).contains(nameRange.count) else {
                throw cursor.error(
                    .badTensorName(
                        name: name, length: nameRange.count, limit: Self.maximumTensorNameLength),
                    at: infoOffset)
            }
            guard tensorIndex[name] == nil else {
                throw cursor.error(.duplicateTensor(name: name), at: infoOffset)
            }
            let dimensionCountOffset = cursor.position
            let dimensionCount = try cursor.read(UInt32.self, "n_dims of tensor '\(name)'")
            guard (1...UInt32(Self.maximumDimensions)).contains(dimensionCount) else {
                throw cursor.error(
                    .badDimensionCount(
                        tensor: name, found: dimensionCount, limit: Self.maximumDimensions),
                    at: dimensionCountOffset)
            }
            var rawShape: [UInt64] = []
            for dimension in 0..<Int(dimensionCount) {
                rawShape.append(
                    try cursor.read(UInt64.self, "ne[\(dimension)] of tensor '\(name)'"))
            }
            let typeOffset = cursor.position
            let typeID = try cursor.read(UInt32.self, "type of tensor '\(name)'")
            let offsetOffset = cursor.position
            let relativeOffset = try cursor.read(UInt64.self, "offset of tensor '\(name)'")

            for (dimension, value) in rawShape.enumerated()
            where value == 0 || value > UInt64(Int64.max) {
                throw cursor.error(
                    .badDimension(tensor: name, index: dimension, found: value),
                    at: dimensionCountOffset + 4 + 8 * dimension)
            }
            let shape = rawShape.map { Int($0) }
            var elementCount = 1
            for value in shape {
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: value)
                guard !overflow else {
                    throw cursor.error(
                        .sizeOverflow(tensor: name, shape: rawShape), at: dimensionCountOffset)
                }
                elementCount = product
            }
            guard let type = GGMLType(rawValue: typeID) else {
                throw cursor.error(.unknownTensorType(tensor: name, found: typeID), at: typeOffset)
            }
            guard let rowBytes = type.rowBytes(columns: shape[0]) else {
                throw cursor.error(
                    .partialBlock(
                        tensor: name, type: type, rowLength: shape[0], blockSize: type.blockSize),
                    at: dimensionCountOffset + 4)
            }
            let (byteCount, byteOverflow) = rowBytes.multipliedReportingOverflow(
                by: elementCount / shape[0])
            guard !byteOverflow else {
                throw cursor.error(
                    .sizeOverflow(tensor: name, shape: rawShape), at: dimensionCountOffset)
            }
            guard relativeOffset % UInt64(alignment) == 0 else {
                throw cursor.error(
                    .misalignedTensor(tensor: name, offset: relativeOffset, alignment: alignment),
                    at: offsetOffset)
            }
            tensorIndex[name] = tensors.count
            relativeOffsets.append((relativeOffset, infoOffset))
            tensors.append(
                GGUFTensorInfo(
                    name: name, type: type, shape: shape, elementCount: elementCount,
                    byteCount: byteCount, relativeOffset: 0, fileOffset: 0, infoOffset: infoOffset))
        }

        // data section: padded to the alignment after the last tensor info (only when there
        // are tensors, as ggml does)
        var dataOffset = cursor.position
        if !tensors.isEmpty {
            let padded =
                (UInt64(dataOffset) + UInt64(alignment) - 1) / UInt64(alignment) * UInt64(alignment)
            guard padded <= UInt64(fileSize) else {
                throw cursor.error(
                    .truncated(
                        field: "padding before the tensor data", needed: Int(padded) - dataOffset,
                        available: cursor.remaining))
            }
            dataOffset = Int(padded)
        }
        self.dataOffset = dataOffset

        // tensor bounds, checked in 64-bit without wrapping
        for index in tensors.indices {
            let info = tensors[index]
            let (relative, infoOffset) = relativeOffsets[index]
            let (start, startOverflow) = UInt64(dataOffset).addingReportingOverflow(relative)
            let (end, endOverflow) = start.addingReportingOverflow(UInt64(info.byteCount))
            guard !startOverflow, !endOverflow, end <= UInt64(fileSize) else {
                throw GGUFError(
                    path: path, offset: infoOffset,
                    reason: .tensorOutOfBounds(
                        tensor: info.name, start: startOverflow ? relative : start,
                        size: UInt64(info.byteCount), fileSize: fileSize))
            }
            tensors[index] = GGUFTensorInfo(
                name: info.name, type: info.type, shape: info.shape,
                elementCount: info.elementCount,
                byteCount: info.byteCount, relativeOffset: Int(relative), fileOffset: Int(start),
                infoOffset: infoOffset)
        }

        // no two tensors share bytes
        let byStart = tensors.sorted { $0.fileOffset < $1.fileOffset }
        for (previous, next) in zip(byStart, byStart.dropFirst())
        where previous.fileRange.upperBound > next.fileOffset {
            throw GGUFError(
                path: path, offset: next.infoOffset,
                reason: .overlappingTensors(first: previous.name, second: next.name))
        }

        self.tensors = tensors
        self.tensorIndex = tensorIndex
    }

    /// Reads a value type id and the value after it.
    private static func readValue(_ cursor: inout ByteCursor, key: String, region: MappedRegion)
        throws(GGUFError) -> GGUFValue
    {
        let typeOffset = cursor.position
        let typeID = try cursor.read(UInt32.self, "value type of '\(key)'")
        guard let type = GGUFValueType(rawValue: typeID) else {
            throw cursor.error(.unknownValueType(key: key, found: typeID), at: typeOffset)
        }
        switch type {
        case .string:
            return .string(try cursor.string("value of '\(key)'"))
        case .array:
            let elementTypeOffset = cursor.position
            let elementID = try cursor.read(UInt32.self, "element type of '\(key)'")
            guard let elementType = GGUFValueType(rawValue: elementID) else {
                throw cursor.error(
                    .unknownValueType(key: key, found: elementID), at: elementTypeOffset)
            }
            guard elementType != .array else {
                throw cursor.error(.nestedArray(key: key), at: elementTypeOffset)
            }
            let countOffset = cursor.position
            let count = try cursor.read(UInt64.self, "element count of '\(key)'")
            let smallest = UInt64(elementType.fixedSize ?? 8)
            let limit = UInt64(cursor.remaining) / smallest
            guard count <= limit else {
                throw cursor.error(
                    .countTooLarge(field: "element count of '\(key)'", count: count, limit: limit),
                    at: countOffset)
            }
            let start = cursor.position
            if let size = elementType.fixedSize {
                cursor.skip(Int(count) * size)
            } else {
                for index in 0..<Int(count) {
                    _ = try cursor.stringRange("element \(index) of '\(key)'")
                }
            }
            let storage = ByteStorage.mapped(region, offset: start, length: cursor.position - start)
            return .array(GGUFArray(elementType: elementType, count: Int(count), storage: storage))
        default:
            let size = type.fixedSize!
            try cursor.require(size, for: "value of '\(key)'")
            let value = decodeFixed(type, cursor.bytes, at: cursor.position)
            cursor.skip(size)
            return value
        }
    }

    // MARK: tensors

    /// The tensor called `name`, if there is one.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor called `name`; throws `missingTensor` when absent.
    public func requiredTensor(named name: String) throws(GGUFError) -> GGUFTensorInfo {
        guard let info = tensor(named: name) else {
            throw GGUFError(path: path, offset: nil, reason: .missingTensor(name: name))
        }
        return info
    }

    /// The stored bytes of `tensor`, in place in the mapping; valid while this object lives.
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(tensor.fileRange.upperBound <= fileSize, "tensor from another file")
        return UnsafeRawBufferPointer(rebasing: region.bytes[tensor.fileRange])
    }

    /// The start of `tensor`'s bytes; valid while this object lives.
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawPointer {
        bytes(of: tensor).baseAddress!
    }

    /// All of `tensor` dequantised to Float32 (a copy; for small tensors and tests).
    public func floats(of tensor: GGUFTensorInfo) throws(GGUFError) -> [Float] {
        guard tensor.type.isSupportedForCompute else {
            throw GGUFError(
                path: path, offset: tensor.infoOffset,
                reason: .unsupportedTensorType(tensor: tensor.name, type: tensor.type))
        }
        return [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, initialized in
            dequantizeRow(
                tensor.type, from: data(of: tensor), to: buffer.baseAddress!,
                count: tensor.elementCount)
            initialized = tensor.elementCount
        }
    }
}
