// Element-wise kernels of the forward pass, on contiguous float vectors.
//
// Legend: n = length; every vector is [n] contiguous floats; `out` may be the same buffer as an
// input (in place) unless stated. They run on the calling thread in a fixed order (they are
// small next to the matrix products), so they are deterministic.

import Foundation

/// RMS normalisation: out[i] = x[i] / sqrt(mean(x²) + ε) · weight[i].
/// The sum of squares is accumulated in double, as ggml does.
public func rmsNorm(
    _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, epsilon: Float,
    into out: UnsafeMutablePointer<Float>, count n: Int
) {
    // mean of squares
    var sum: Double = 0
    for i in 0..<n { sum += Double(x[i]) * Double(x[i]) }
    let scale = 1 / (Float(sum / Double(n)) + epsilon).squareRoot()

    // normalise and weight
    for i in 0..<n { out[i] = x[i] * scale * weight[i] }
}

/// Softmax in place: x[i] = exp(x[i] − max x) / Σ_j exp(x[j] − max x).
public func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    guard n > 0 else { return }

    // subtract the maximum for range, exponentiate, sum
    var maximum = x[0]
    for i in 1..<n { maximum = max(maximum, x[i]) }
    var sum: Float = 0
    for i in 0..<n {
        x[i] = expf(x[i] - maximum)
        sum += x[i]
    }

    // normalise
    let inverse = 1 / sum
    for i in 0..<n { x[i] *= inverse }
}

/// SwiGLU gating: out[i] = silu(gate[i]) · up[i], with silu(g) = g / (1 + exp(−g)).
public func siluMul(
    _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>,
    into out: UnsafeMutablePointer<Float>, count n: Int
) {
    for i in 0..<n {
        let g = gate[i]
        out[i] = g / (1 + expf(-g)) * up[i]
    }
}

/// out[i] = a[i] + b[i].
public func add(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
    count n: Int
) {
    for i in 0..<n { out[i] = a[i] + b[i] }
}

/// x[i] *= s, in place.
public func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count n: Int) {
    for i in 0..<n { x[i] *= s }
}

/// y[i] += s · x[i] (the weighted sum of expert outputs, a residual with a multiplier).
public func accumulate(
    _ x: UnsafePointer<Float>, scaledBy s: Float, into y: UnsafeMutablePointer<Float>, count n: Int
) {
    for i in 0..<n { y[i] += s * x[i] }
}
