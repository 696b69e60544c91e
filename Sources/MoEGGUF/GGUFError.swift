/// A GGUF file that cannot be used: which file, where in it, and what was wrong.
///
/// Every failure of the reader is one of these; none traps. `offset` is the byte offset in the
/// file of the field that failed (nil when the problem is not at one place, e.g. a missing key).
public struct GGUFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file, as given to the reader or writer.
    public var path: String
    /// The byte offset of the offending field, when there is one.
    public var offset: Int?
    /// What was wrong.
    public var reason: Reason

    public init(path: String, offset: Int?, reason: Reason) {
        self.path = path
        self.offset = offset
        self.reason = reason
    }

    /// The kinds of failure. Each names the field, key or tensor and says what was expected
    /// versus what was found.
    public enum Reason: Sendable, Equatable {
        /// The file could not be opened, sized or mapped (`message` comes from the system).
        case cannotOpen(message: String)
        /// The file ends inside `field`: `needed` bytes were required, `available` remained.
        case truncated(field: String, needed: Int, available: Int)
        /// The first four bytes are not `GGUF`.
        case badMagic(found: [UInt8])
        /// The version reads as a byte-swapped small number: a big-endian file.
        case bigEndian(version: UInt32)
        /// A version other than 2 or 3.
        case unsupportedVersion(found: UInt32)
        /// A count (tensors, keys, array elements) larger than the rest of the file could hold.
        case countTooLarge(field: String, count: UInt64, limit: UInt64)
        /// A string whose length exceeds the bytes left in the file.
        case stringTooLong(field: String, length: UInt64, available: Int)
        /// A metadata value type id that GGUF does not define.
        case unknownValueType(key: String, found: UInt32)
        /// An array whose elements are arrays (ggml refuses them).
        case nestedArray(key: String)
        /// A key that is empty.
        case emptyKey
        /// A key that appears twice.
        case duplicateKey(key: String)
        /// `general.alignment` that is zero or not a power of two.
        case badAlignment(found: UInt64)
        /// A tensor name that is empty or longer than ggml's 63 bytes.
        case badTensorName(name: String, length: Int, limit: Int)
        /// A tensor name that appears twice.
        case duplicateTensor(name: String)
        /// A tensor with no dimensions or more than four.
        case badDimensionCount(tensor: String, found: UInt32, limit: Int)
        /// A tensor dimension that is zero or does not fit in a signed 64-bit integer.
        case badDimension(tensor: String, index: Int, found: UInt64)
        /// A tensor whose element or byte count overflows 64-bit arithmetic.
        case sizeOverflow(tensor: String, shape: [UInt64])
        /// A tensor type id that ggml does not define (or has retired).
        case unknownTensorType(tensor: String, found: UInt32)
        /// A tensor whose rows (ne[0]) are not a whole number of its type's blocks.
        case partialBlock(tensor: String, type: GGMLType, rowLength: Int, blockSize: Int)
        /// A tensor offset that is not a multiple of the alignment.
        case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
        /// Tensor data that lies (partly) outside the file. `start` is absolute.
        case tensorOutOfBounds(tensor: String, start: UInt64, size: UInt64, fileSize: Int)
        /// Two tensors whose data overlap.
        case overlappingTensors(first: String, second: String)
        /// A required metadata key is absent.
        case missingKey(key: String)
        /// A metadata value of the wrong type for its key.
        case wrongType(key: String, expected: String, found: String)
        /// A metadata value that is out of range or contradicts other metadata or the tensors.
        case invalidValue(key: String, found: String, expected: String)
        /// `block_count` says a layer exists, but no `blk.N.*` tensor is there.
        case missingLayer(layer: Int, blockCount: Int)
        /// A `blk.N.*` tensor with N at or beyond `block_count`.
        case tensorOutsideLayers(tensor: String, blockCount: Int)
        /// A required tensor is absent.
        case missingTensor(name: String)
        /// A tensor whose shape disagrees with the metadata.
        case tensorShapeMismatch(tensor: String, found: [Int], expected: String)
        /// A tensor of a type this operation cannot handle.
        case unsupportedTensorType(tensor: String, type: GGMLType)
        /// Writing failed (the writer's errors).
        case writeFailed(message: String)
    }

    public var description: String {
        let place = offset.map { " at byte \($0)" } ?? ""
        return "\(path)\(place): \(reason.message)"
    }
}

extension GGUFError.Reason {
    /// One precise sentence: what, where, expected versus found.
    public var message: String {
        switch self {
        case .cannotOpen(let message):
            return "cannot open: \(message)"
        case .truncated(let field, let needed, let available):
            return "file ends inside \(field): needed \(needed) bytes, \(available) left"
        case .badMagic(let found):
            let hex = found.map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }
                .joined(separator: " ")
            return "not a GGUF file: magic should be 47 47 55 46 (\"GGUF\"), found \(hex)"
        case .bigEndian(let version):
            return "big-endian GGUF (version reads as 0x\(String(version, radix: 16))); "
                + "only little-endian files are supported"
        case .unsupportedVersion(let found):
            return "unsupported GGUF version \(found): expected 2 or 3"
        case .countTooLarge(let field, let count, let limit):
            return "\(field) is \(count), but the rest of the file holds at most \(limit)"
        case .stringTooLong(let field, let length, let available):
            return "\(field) has length \(length), but only \(available) bytes are left"
        case .unknownValueType(let key, let found):
            return "metadata '\(key)' has unknown value type \(found): expected 0...12"
        case .nestedArray(let key):
            return "metadata '\(key)' is an array of arrays, which GGUF readers refuse"
        case .emptyKey:
            return "metadata key is empty"
        case .duplicateKey(let key):
            return "metadata key '\(key)' appears twice"
        case .badAlignment(let found):
            return "general.alignment is \(found): expected a power of two"
        case .badTensorName(let name, let length, let limit):
            return "tensor name '\(name)' has \(length) bytes: expected 1...\(limit)"
        case .duplicateTensor(let name):
            return "tensor '\(name)' appears twice"
        case .badDimensionCount(let tensor, let found, let limit):
            return "tensor '\(tensor)' has \(found) dimensions: expected 1...\(limit)"
        case .badDimension(let tensor, let index, let found):
            return "tensor '\(tensor)' has ne[\(index)] = \(found): expected 1...\(Int64.max)"
        case .sizeOverflow(let tensor, let shape):
            return "tensor '\(tensor)' of shape \(shape) has an element or byte count that "
                + "overflows 64 bits"
        case .unknownTensorType(let tensor, let found):
            return "tensor '\(tensor)' has unknown ggml type \(found)"
        case .partialBlock(let tensor, let type, let rowLength, let blockSize):
            return "tensor '\(tensor)' of type \(type.name) has rows of \(rowLength) elements: "
                + "expected a multiple of the block size \(blockSize)"
        case .misalignedTensor(let tensor, let offset, let alignment):
            return "tensor '\(tensor)' has data offset \(offset): expected a multiple of the "
                + "alignment \(alignment)"
        case .tensorOutOfBounds(let tensor, let start, let size, let fileSize):
            return "tensor '\(tensor)' occupies \(size) bytes from byte \(start), past the end "
                + "of the file (\(fileSize) bytes)"
        case .overlappingTensors(let first, let second):
            return "tensors '\(first)' and '\(second)' overlap in the file"
        case .missingKey(let key):
            return "required metadata '\(key)' is missing"
        case .wrongType(let key, let expected, let found):
            return "metadata '\(key)' is \(found): expected \(expected)"
        case .invalidValue(let key, let found, let expected):
            return "metadata '\(key)' is \(found): expected \(expected)"
        case .missingLayer(let layer, let blockCount):
            return "block_count is \(blockCount), but no tensor 'blk.\(layer).*' exists"
        case .tensorOutsideLayers(let tensor, let blockCount):
            return "tensor '\(tensor)' lies outside the \(blockCount) layers of block_count"
        case .missingTensor(let name):
            return "required tensor '\(name)' is missing"
        case .tensorShapeMismatch(let tensor, let found, let expected):
            return "tensor '\(tensor)' has shape \(found): expected \(expected)"
        case .unsupportedTensorType(let tensor, let type):
            return "tensor '\(tensor)' has type \(type.name), which moetop cannot compute with"
        case .writeFailed(let message):
            return "cannot write: \(message)"
        }
    }
}
