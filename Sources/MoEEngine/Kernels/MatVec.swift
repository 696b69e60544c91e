// Matrix-vector products on stored (possibly quantised) weights: the decode path.
//
// Legend: W is a weight matrix [rows, columns], row-major, columns contiguous (ggml ne[0]);
// x is [columns], y is [rows]; y[r] = Σ_c W[r][c]·x[c].
//
// Each call prepares x once per distinct input (quantised to int8 groups for the quantised
// types, see ActivationPrep.swift), then cuts the output rows of all its products into
// contiguous chunks that the pool's threads take in turn. A row's dot product is computed by one
// thread, in a fixed order that does not depend on the split, so y is bit-identical for any
// thread count.
//
// Accuracy: F32, F16 and BF16 weights are dotted in float. Q8_0, Q4_0, Q4_K, Q5_K and Q6_K are
// dotted in integers against x quantised to int8 per 32 elements (as ggml does), which adds a
// relative error of about 1e-3 of Σ|W·x|. Q4_1, Q5_0, Q5_1, Q2_K and Q3_K decode one block at a
// time to floats and dot in float.

import MoEGGUF

/// One product y = W x of a batched `matVec` call.
public struct MatVecProduct: @unchecked Sendable {
    /// W [rows, columns].
    public var weights: WeightMatrix
    /// x [columns].
    public var input: UnsafePointer<Float>
    /// y [rows], overwritten.
    public var output: UnsafeMutablePointer<Float>

    public init(
        _ weights: WeightMatrix, _ input: UnsafePointer<Float>,
        _ output: UnsafeMutablePointer<Float>
    ) {
        self.weights = weights
        self.input = input
        self.output = output
    }
}

/// y = W x: `y[r] = Σ_c W[r][c]·x[c]` for every row r. x has `w.columns` floats, y `w.rows`.
public func matVec(
    _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
    pool: ThreadPool
) {
    withUnsafeTemporaryAllocation(of: MatVecProduct.self, capacity: 1) { products in
        products.initializeElement(at: 0, to: MatVecProduct(w, x, y))
        matVec(UnsafeBufferPointer(products), pool: pool)
    }
}

/// Several independent products in one parallel pass (the gate and up projections of every
/// chosen expert, for example). Products that share an input pointer share its preparation.
/// Outputs must not overlap each other or any input.
public func matVec(_ products: [MatVecProduct], pool: ThreadPool) {
    products.withUnsafeBufferPointer { matVec($0, pool: pool) }
}

/// Below this many weight bytes in one call, the calling thread does all the rows: waking the
/// workers costs more than it saves.
private let parallelThresholdBytes = 64 * 1024

/// Rows per unit of the split between threads, so that threads write different cache lines.
private let rowGranule = 16

/// Chunks per thread: more than one, so that a thread the system deschedules holds up only a
/// small part of the work while the others take the rest.
private let chunksPerThread = 8

func matVec(_ products: UnsafeBufferPointer<MatVecProduct>, pool: ThreadPool) {
    let count = products.count
    guard count > 0 else { return }

    // step 1: one preparation per distinct (input, columns, form)
    var scratchBytes = 0
    var totalRows = 0
    var totalBytes = 0
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * count) { plan in
        // plan[i]: index of the product whose preparation product i reuses;
        // plan[count + i]: its scratch offset
        for i in 0..<count {
            let p = products[i]
            precondition(kernelsSupport(p.weights.type), "unsupported type \(p.weights.type.name)")
            let form = p.weights.type.activationForm
            var owner = i
            for j in 0..<i
            where products[j].input == p.input
                && products[j].weights.columns == p.weights.columns
                && products[j].weights.type.activationForm == form
            {
                owner = plan[j]
                break
            }
            plan[i] = owner
            if owner == i {
                plan[count + i] = scratchBytes
                let bytes = activationScratchBytes(columns: p.weights.columns, form: form)
                scratchBytes += (bytes + 63) / 64 * 64
            }
            totalRows += p.weights.rows
            totalBytes += p.weights.rows * p.weights.rowBytes
        }

        withUnsafeTemporaryAllocation(byteCount: max(scratchBytes, 64), alignment: 64) { scratch in
            withUnsafeTemporaryAllocation(of: PreparedActivation.self, capacity: count) {
                prepared in
                for i in 0..<count {
                    let owner = plan[i]
                    if owner == i {
                        let p = products[i]
                        prepared.initializeElement(
                            at: i,
                            to: prepareActivation(
                                p.input, columns: p.weights.columns,
                                form: p.weights.type.activationForm,
                                scratch: scratch.baseAddress! + plan[count + i]))
                    } else {
                        prepared.initializeElement(at: i, to: prepared[owner])
                    }
                }

                // step 2: rows split across the workers
                let activations = UnsafeBufferPointer(prepared)
                if totalBytes < parallelThresholdBytes || pool.threadCount == 1 {
                    computeRows(products, activations, 0..<totalRows)
                } else {
                    let units = (totalRows + rowGranule - 1) / rowGranule
                    let chunks = min(units, chunksPerThread * pool.threadCount)
                    pool.parallelFor(chunks: chunks) { chunk, _ in
                        let share = ThreadPool.range(
                            of: chunk, chunks: chunks, count: totalRows, granule: rowGranule)
                        computeRows(products, activations, share)
                    }
                }
            }
        }
    }
}

/// Computes the rows `rows` of the concatenation of all products' outputs.
private func computeRows(
    _ products: UnsafeBufferPointer<MatVecProduct>,
    _ activations: UnsafeBufferPointer<PreparedActivation>, _ rows: Range<Int>
) {
    guard !rows.isEmpty else { return }
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { scratch in
        var start = 0
        for i in 0..<products.count {
            let p = products[i]
            let end = start + p.weights.rows
            let lower = max(start, rows.lowerBound)
            let upper = min(end, rows.upperBound)
            if lower < upper {
                computeRows(
                    p.weights, activations[i], (lower - start)..<(upper - start), p.output,
                    scratch: scratch.baseAddress!)
            }
            start = end
            if start >= rows.upperBound { break }
        }
    }
}

/// y[r] = W[r] · x for r in `rows`, with the row kernel of W's type.
private func computeRows(
    _ w: WeightMatrix, _ a: PreparedActivation, _ rows: Range<Int>,
    _ y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
) {
    let n = w.columns
    let blocks = n / w.type.blockSize
    switch w.type {
    case .f32:
        for r in rows { y[r] = dotRowF32(w.row(r), a.x, n) }
    case .f16:
        for r in rows { y[r] = dotRowHalf(w.row(r), a.pairs!, n, bfloat: false) }
    case .bf16:
        for r in rows { y[r] = dotRowHalf(w.row(r), a.pairs!, n, bfloat: true) }
    case .q8_0:
        for r in rows { y[r] = dotRowQ8_0(w.row(r), a, blocks: blocks) }
    case .q4_0:
        for r in rows { y[r] = dotRowQ4_0(w.row(r), a, blocks: blocks) }
    case .q4_K:
        for r in rows { y[r] = dotRowQ4_K(w.row(r), a, blocks: blocks) }
    case .q5_K:
        for r in rows { y[r] = dotRowQ5_K(w.row(r), a, blocks: blocks) }
    case .q6_K:
        for r in rows { y[r] = dotRowQ6_K(w.row(r), a, blocks: blocks) }
    default:
        let type = w.type
        for r in rows {
            y[r] = dotRowDecoded(type, w.row(r), a.x, blocks: blocks, scratch: scratch)
        }
    }
}
