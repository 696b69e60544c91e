// Matrix-matrix products for batched prefill, with OpenBLAS sgemm on dequantised tiles.
//
// Legend: n = tokens; W [rows, columns] stored, row-major, columns contiguous; X [n, columns]
// and Y [n, rows], both row-major (a token's vector is contiguous). Y = X · Wᵀ, that is
// Y[t][r] = Σ_c X[t][c]·W[r][c].
//
// W is cut into fixed tiles of `matMulTileRows` rows. Each tile is decoded to F32 (F32 weights
// are used in place; Q8_0, Q4_K, Q5_K and Q6_K rows by SIMD decoders in a permuted column order
// that X is copied into once per call, see TileDecode.swift) and multiplied by one single-threaded sgemm call; the pool's threads take
// tiles in turn. Tiles are the same whatever the thread count, so every sgemm call sees the same
// operands and Y is bit-identical for any thread count. Scratch is one tile per thread:
// tileRows × columns floats.

import COpenBLAS
import MoEGGUF

/// Rows of W per dequantised tile.
let matMulTileRows = 64

/// OpenBLAS must not start threads of its own: the pool already occupies the cores, and one
/// thread per sgemm call keeps each call's summation order fixed.
private let openBLASSingleThreaded: Bool = {
    openblas_set_num_threads(1)
    return true
}()

/// Y = X · Wᵀ: `y[t·rows + r] = Σ_c x[t·columns + c]·W[r][c]` for t in 0..<n, r in 0..<rows.
public func matMul(
    _ w: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int, _ y: UnsafeMutablePointer<Float>,
    pool: ThreadPool
) {
    precondition(kernelsSupport(w.type), "unsupported type \(w.type.name)")
    guard n > 0, w.rows > 0 else { return }
    precondition(openBLASSingleThreaded)
    let tiles = (w.rows + matMulTileRows - 1) / matMulTileRows

    let needsTile = w.type != .f32

    // types with a SIMD decoder store rows quad-split: X's columns follow (TileDecode.swift)
    let quadSplit = w.type.hasQuadSplitDecoder
    let permuted = UnsafeMutablePointer<Float>.allocate(capacity: quadSplit ? n * w.columns : 0)
    defer { permuted.deallocate() }
    if quadSplit { quadSplitColumns(x, count: n, columns: w.columns, into: permuted) }
    let a = quadSplit ? UnsafePointer(permuted) : x

    let scratch = (0..<pool.threadCount).map { _ in
        UnsafeMutablePointer<Float>.allocate(capacity: needsTile ? matMulTileRows * w.columns : 0)
    }
    defer { scratch.forEach { $0.deallocate() } }

    pool.parallelFor(chunks: tiles) { t, thread in
        // decode the tile's rows (F32 rows are used in place)
        let first = t * matMulTileRows
        let count = min(matMulTileRows, w.rows - first)
        let operand: UnsafePointer<Float>
        if needsTile {
            let tile = scratch[thread]
            for r in 0..<count {
                if quadSplit {
                    decodeRowQuadSplit(w, row: first + r, into: tile + r * w.columns)
                } else {
                    dequantizeRow(w, row: first + r, into: tile + r * w.columns)
                }
            }
            operand = UnsafePointer(tile)
        } else {
            operand = w.row(first).assumingMemoryBound(to: Float.self)
        }

        // Y[:, first..<first+count] = X · tileᵀ
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(count),
            Int32(w.columns), 1, a, Int32(w.columns), operand, Int32(w.columns), 0,
            y + first, Int32(w.rows))
    }
}
