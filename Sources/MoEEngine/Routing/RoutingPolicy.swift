import MoERouting

/// How an architecture turns router logits into expert choices and weights: the parts of
/// llama.cpp's `build_moe_ffn` that differ between architectures (reference §3.0).
public struct RoutingPolicy: Sendable, Equatable {
    /// Softmax over all experts, or an independent sigmoid per expert.
    public var gating: GatingFunction
    /// Whether the k chosen weights are divided by their sum.
    public var normalizesTopK: Bool
    /// Factor applied to the chosen weights after any renormalisation; 1 means none.
    public var weightsScale: Float

    public init(gating: GatingFunction, normalizesTopK: Bool, weightsScale: Float = 1) {
        self.gating = gating
        self.normalizesTopK = normalizesTopK
        self.weightsScale = weightsScale
    }

    /// llama.cpp clamps the sum it renormalises by from below (2^-14), so a row of tiny
    /// probabilities cannot divide by zero.
    static let minimumNormalizer: Float = 6.103515625e-5
}
