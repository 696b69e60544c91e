import Foundation
import MoERouting

/// The routing hook. Every architecture's MoE layers call `route` once per token, so gating,
/// top-k selection, renormalisation, scaling and capture happen in exactly one place.
///
/// Order of operations (llama.cpp `build_moe_ffn`, reference §3.0):
/// 1. probabilities = gating(logits) over all experts;
/// 2. chosen = the k largest probabilities, best first (ties: the lower expert id first);
/// 3. weights = probabilities of the chosen experts;
/// 4. if the policy renormalises: weights /= max(Σ weights, 2^-14);
/// 5. if the policy scales (factor not 0 or 1): weights *= factor.
///
/// With capture off nothing is copied: the hook only writes the k experts and weights the
/// forward pass needs.
struct Router {
    let policy: RoutingPolicy
    let expertCount: Int
    let expertsPerToken: Int

    /// Routes one token of block `layer`.
    /// - Parameters:
    ///   - logits: `[expertCount]` router logits.
    ///   - probabilities: `[expertCount]` scratch; holds the gating probabilities afterwards.
    ///   - experts: `[expertsPerToken]` chosen expert ids, best first.
    ///   - weights: `[expertsPerToken]` the weights to apply to those experts' outputs.
    ///   - capture: when non-nil, one `RoutingRecord` is appended to token `token`'s records.
    func route(
        layer: Int, logits: UnsafePointer<Float>, probabilities: UnsafeMutablePointer<Float>,
        experts: UnsafeMutablePointer<Int32>, weights: UnsafeMutablePointer<Float>,
        token: Int = 0, capture: RoutingCapture?
    ) {
        let n = expertCount
        let k = expertsPerToken

        // gating
        switch policy.gating {
        case .softmax:
            var maximum = -Float.infinity
            for e in 0..<n { maximum = max(maximum, logits[e]) }
            var sum: Double = 0
            for e in 0..<n {
                let value = expf(logits[e] - maximum)
                probabilities[e] = value
                sum += Double(value)
            }
            let inverse = Float(1 / sum)
            for e in 0..<n { probabilities[e] *= inverse }
        case .sigmoid:
            for e in 0..<n { probabilities[e] = 1 / (1 + expf(-logits[e])) }
        }

        // top-k by insertion: k is small, so k passes over a short sorted prefix
        var chosen = 0
        for e in 0..<n {
            let p = probabilities[e]
            if chosen == k && p <= probabilities[Int(experts[k - 1])] { continue }
            var slot = min(chosen, k - 1)
            while slot > 0 && probabilities[Int(experts[slot - 1])] < p {
                experts[slot] = experts[slot - 1]
                slot -= 1
            }
            experts[slot] = Int32(e)
            chosen = min(chosen + 1, k)
        }

        // weights: the unbiased probabilities of the chosen experts
        var sum: Float = 0
        for slot in 0..<k {
            weights[slot] = probabilities[Int(experts[slot])]
            sum += weights[slot]
        }

        // renormalise, then scale
        if policy.normalizesTopK {
            let divisor = max(sum, RoutingPolicy.minimumNormalizer)
            for slot in 0..<k { weights[slot] /= divisor }
        }
        if policy.weightsScale != 0 && policy.weightsScale != 1 {
            for slot in 0..<k { weights[slot] *= policy.weightsScale }
        }

        // capture
        if let capture {
            capture.records[token].append(
                RoutingRecord(
                    layer: layer,
                    logits: Array(UnsafeBufferPointer(start: logits, count: n)),
                    probabilities: Array(UnsafeBufferPointer(start: probabilities, count: n)),
                    experts: Array(UnsafeBufferPointer(start: experts, count: k)),
                    weights: Array(UnsafeBufferPointer(start: weights, count: k))))
        }
    }
}
