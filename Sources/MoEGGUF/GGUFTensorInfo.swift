/// One tensor of a GGUF file, as its tensor info describes it, after validation.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor name (`blk.0.ffn_up_exps.weight`).
    public let name: String
    /// The storage type.
    public let type: GGMLType
    /// The dimensions in ggml order: `shape[0]` (ne[0]) is contiguous. A PyTorch `[out, in]`
    /// weight has `shape == [in, out]`.
    public let shape: [Int]
    /// The product of the dimensions.
    public let elementCount: Int
    /// Bytes of the stored data.
    public let byteCount: Int
    /// Where the data starts, relative to the file's data section (as stored).
    public let relativeOffset: Int
    /// Where the data starts in the file.
    public let fileOffset: Int
    /// Where this tensor's info record starts in the file's header.
    public let infoOffset: Int

    /// Elements per row (ne[0]).
    public var rowLength: Int { shape[0] }
    /// Number of rows: the product of the dimensions after the first.
    public var rowCount: Int { elementCount / shape[0] }
    /// Bytes per row.
    public var rowBytes: Int { byteCount / rowCount }
    /// The byte range of the data in the file.
    public var fileRange: Range<Int> { fileOffset..<fileOffset + byteCount }

    /// The shape with dimension `index`, or 1 past the last stored dimension (ggml treats a
    /// missing trailing dimension as 1).
    public func dimension(_ index: Int) -> Int { index < shape.count ? shape[index] : 1 }
}
