// The activation vector x, prepared once per matrix-vector product for the row kernels.
//
// Legend: n = columns (length of x); G = 32, the group length; g = group index (0..<n/G).
// Two preparations, chosen by the weight type (`ActivationForm`):
//
// - `.int8Groups` (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K: the types with an integer kernel): x is
//   quantised per group of 32 to int8 values q with one scale d = max|x|/127 (so x ≈ d·q),
//   stored widened to Int16 and pair-split: a group's 32 values are stored as its 16
//   even-indexed elements, then its 16 odd-indexed ones. A weight vector loaded as 16-bit lanes holds an even element in each
//   lane's low byte and the next odd element in its high byte, so the kernels multiply lane by
//   lane with no shuffles. Also kept per group: d and the float sum of the original x (for the
//   per-sub-block minimum terms of Q4_K and Q5_K).
// - `.halfPairs` (F16, BF16): x as floats, pair-split in groups of 16 (8 evens, then 8 odds),
//   for the same reason. A tail shorter than 16 stays in order.
//
// F32 weights and the types without an integer kernel (Q4_1, Q5_0, Q5_1, Q2_K, Q3_K) read x as
// it is (`.plain`).

import MoEGGUF

/// How a weight type wants its activation vector prepared.
enum ActivationForm {
    case plain
    case halfPairs
    case int8Groups
}

extension GGMLType {
    /// The activation preparation the matVec row kernel for this type reads.
    var activationForm: ActivationForm {
        switch self {
        case .f16, .bf16: .halfPairs
        case .q8_0, .q4_0, .q4_K, .q5_K, .q6_K: .int8Groups
        default: .plain
        }
    }
}

/// Group length of the int8 activation quantisation.
let activationGroup = 32

/// Pointers into a prepared activation (see the file comment). Valid while the buffer that
/// `ActivationBuffer.prepare` wrote lives.
struct PreparedActivation {
    /// x as given (always set).
    var x: UnsafePointer<Float>
    /// `.halfPairs`: n floats, pair-split per 16.
    var pairs: UnsafePointer<Float>?
    /// `.int8Groups`: n Int16 values, pair-split per group.
    var q: UnsafePointer<Int16>?
    /// `.int8Groups`: n/G scales d.
    var d: UnsafePointer<Float>?
    /// `.int8Groups`: n/G sums of x over each group (float, in element order).
    var sum: UnsafePointer<Float>?
}

/// Bytes of scratch that `prepareActivation` needs for `columns` elements in `form`.
func activationScratchBytes(columns n: Int, form: ActivationForm) -> Int {
    switch form {
    case .plain: 0
    case .halfPairs: n * 4
    case .int8Groups: n * 2 + (n / activationGroup) * 8
    }
}

/// Prepares `x` (n floats) in `form` into `scratch` (at least `activationScratchBytes` bytes,
/// 4-byte aligned).
func prepareActivation(
    _ x: UnsafePointer<Float>, columns n: Int, form: ActivationForm,
    scratch: UnsafeMutableRawPointer
) -> PreparedActivation {
    var prepared = PreparedActivation(x: x)
    switch form {
    case .plain:
        break

    case .halfPairs:
        let out = scratch.assumingMemoryBound(to: Float.self)
        let whole = n / 16 * 16
        for base in stride(from: 0, to: whole, by: 16) {
            for i in 0..<8 {
                out[base + i] = x[base + 2 * i]
                out[base + 8 + i] = x[base + 2 * i + 1]
            }
        }
        for i in whole..<n { out[i] = x[i] }
        prepared.pairs = UnsafePointer(out)

    case .int8Groups:
        precondition(n % activationGroup == 0, "quantised rows are whole 32-element groups")
        let groups = n / activationGroup
        let q = scratch.assumingMemoryBound(to: Int16.self)
        let d = (scratch + n * 2).assumingMemoryBound(to: Float.self)
        let sum = d + groups
        for g in 0..<groups {
            let xg = x + g * activationGroup
            let qg = q + g * activationGroup

            // scale: the largest magnitude maps to ±127
            var maxAbs: Float = 0
            var total: Float = 0
            for e in 0..<activationGroup {
                maxAbs = max(maxAbs, abs(xg[e]))
                total += xg[e]
            }
            // a non-finite x gives a NaN scale (the product is NaN, as in float) and zero values
            let finite = maxAbs.isFinite && total.isFinite
            let scale = finite ? maxAbs / 127 : .nan
            let inverse: Float = finite && scale > 1e-30 ? 1 / scale : 0
            d[g] = scale
            sum[g] = total

            // values, rounded to nearest, pair-split
            for i in 0..<(activationGroup / 2) {
                qg[i] = Int16((xg[2 * i] * inverse).rounded())
                qg[activationGroup / 2 + i] = Int16((xg[2 * i + 1] * inverse).rounded())
            }
        }
        prepared.q = UnsafePointer(q)
        prepared.d = UnsafePointer(d)
        prepared.sum = UnsafePointer(sum)
    }
    return prepared
}
