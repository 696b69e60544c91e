/// What the router of one MoE layer did for one token: the exact values the engine used.
///
/// Every architecture's forward pass fills one record per MoE layer through the engine's single
/// routing hook, so the screen, the trace writer and the statistics all see the same numbers.
public struct RoutingRecord: Sendable, Equatable {
    /// Index of the transformer block (not of the MoE layer) this record comes from.
    public var layer: Int
    /// Raw router logits, one per expert. `[expertCount]`. Empty when a trace did not keep them.
    public var logits: [Float]
    /// Gating probabilities over all experts (softmax or sigmoid of the logits). `[expertCount]`.
    public var probabilities: [Float]
    /// Chosen experts in rank order, best first. `[expertsPerToken]`.
    public var experts: [Int32]
    /// The weights actually applied to the chosen experts' outputs (after any renormalisation
    /// and scaling), in the same order as `experts`. `[expertsPerToken]`.
    public var weights: [Float]

    public init(
        layer: Int, logits: [Float], probabilities: [Float], experts: [Int32], weights: [Float]
    ) {
        self.layer = layer
        self.logits = logits
        self.probabilities = probabilities
        self.experts = experts
        self.weights = weights
    }

    /// Number of experts the router chose between.
    public var expertCount: Int { probabilities.count }

    /// The probability gap between the last chosen expert and the best expert left out:
    /// how far this routing decision is from flipping. Zero when every expert is chosen.
    public var margin: Float {
        guard let last = experts.last, experts.count < probabilities.count else { return 0 }
        let chosen = Set(experts)
        var bestOut = -Float.infinity
        for (index, p) in probabilities.enumerated() where !chosen.contains(Int32(index)) {
            bestOut = max(bestOut, p)
        }
        return probabilities[Int(last)] - bestOut
    }
}
