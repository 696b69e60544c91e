import MoEGGUF

/// A weight matrix in its stored (possibly quantised) form, viewed in place in the mapped file.
///
/// Layout: `rows` rows of `columns` elements, row-major; each row is `rowBytes` contiguous bytes
/// of whole `type` blocks (the contiguous dimension is `columns`, ggml's ne[0]). A linear layer
/// `y = W x` with PyTorch weight `[out, in]` has `rows == out`, `columns == in`.
public struct WeightMatrix: @unchecked Sendable {
    public let type: GGMLType
    public let rows: Int
    public let columns: Int
    public let rowBytes: Int
    public let base: UnsafeRawPointer

    public init(type: GGMLType, rows: Int, columns: Int, base: UnsafeRawPointer) {
        precondition(columns % type.blockSize == 0, "row length must be whole blocks")
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = type.rowBytes(columns: columns)!
        self.base = base
    }

    /// The start of row `row`.
    @inline(__always)
    public func row(_ row: Int) -> UnsafeRawPointer { base + row * rowBytes }

    /// Rows `first..<first+count` as a matrix of their own (one expert of a stacked
    /// `[experts, rows, columns]` tensor, for example).
    public func slice(rows first: Int, count: Int) -> WeightMatrix {
        precondition(first >= 0 && count >= 0 && first + count <= rows)
        return WeightMatrix(type: type, rows: count, columns: columns, base: row(first))
    }
}
