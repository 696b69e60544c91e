import Foundation

/// Rotary position embedding (reference §3.0). For pair i of the first `dimensionCount`
/// dimensions of a head, at position p: θ = p · scale · base^(−2i/dimensionCount), and the
/// pair (a, b) becomes (a·cos θ − b·sin θ, a·sin θ + b·cos θ). Dimensions past
/// `dimensionCount` pass through.
struct RotaryEmbedding {
    let pairing: RopePairing
    let dimensionCount: Int
    /// [dimensionCount / 2] angle per position of each pair, in double.
    private let inverseFrequencies: [Double]

    init(pairing: RopePairing, dimensionCount: Int, base: Float, frequencyScale: Float) {
        self.pairing = pairing
        self.dimensionCount = dimensionCount
        inverseFrequencies = (0..<dimensionCount / 2).map { i in
            Double(frequencyScale) * pow(Double(base), -2 * Double(i) / Double(dimensionCount))
        }
    }

    /// Fills the cos and sin of every pair at `position`. [dimensionCount / 2] each.
    func angles(
        at position: Int, cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<dimensionCount / 2 {
            let theta = Double(position) * inverseFrequencies[i]
            cos[i] = Float(Foundation.cos(theta))
            sin[i] = Float(Foundation.sin(theta))
        }
    }

    /// Rotates `heads` consecutive heads of `headLength` floats in place.
    func rotate(
        _ x: UnsafeMutablePointer<Float>, heads: Int, headLength: Int,
        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
    ) {
        let half = dimensionCount / 2
        for h in 0..<heads {
            let head = x + h * headLength
            for i in 0..<half {
                // adjacent pairs (2i, 2i+1) or halves (i, i + half)
                let (first, second) = pairing == .adjacent ? (2 * i, 2 * i + 1) : (i, i + half)
                let a = head[first]
                let b = head[second]
                head[first] = a * cos[i] - b * sin[i]
                head[second] = a * sin[i] + b * cos[i]
            }
        }
    }
}
