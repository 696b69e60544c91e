/// How a router turns logits into probabilities.
public enum GatingFunction: String, Sendable, Codable {
    case softmax
    case sigmoid
}

/// What the screen, traces and statistics need to know about a model, with no engine behind
/// it. A trace header carries one of these, so replay works without the model file.
public struct ModelDescription: Sendable, Equatable, Codable {
    /// `general.name`, or the file name when the model has none.
    public var name: String
    /// `general.architecture`, e.g. `qwen3moe`.
    public var architecture: String
    /// A stable hash of the model's metadata and tensor table (hex). Traces are tied to it.
    public var fingerprint: String
    /// Number of transformer blocks.
    public var layerCount: Int
    /// Block indices of the layers that have a router, ascending.
    public var moeLayers: [Int]
    /// Routed experts per MoE layer.
    public var expertCount: Int
    /// Experts chosen per token (top-k).
    public var expertsPerToken: Int
    /// Always-active shared experts per MoE layer.
    public var sharedExpertCount: Int
    /// Softmax or sigmoid gating.
    public var gating: GatingFunction
    /// Whether the chosen experts' weights are renormalised to sum to one.
    public var normalizesTopK: Bool
    /// Factor applied to the expert weights after selection (1 when none).
    public var weightsScale: Float
    /// Every parameter in the model.
    public var totalParameters: Int
    /// Parameters one token touches as configured: always-on parts, k routed experts per MoE
    /// layer, and the shared experts.
    public var activeParameters: Int
    /// Parameters in one routed expert of one layer (gate, up and down projections).
    public var parametersPerExpert: Int
    /// Bytes of weights of one routed expert of one layer, as stored in the file.
    public var bytesPerExpert: Int
    /// Bytes of weights every token reads regardless of routing (attention, norms, shared
    /// experts, router, output head).
    public var alwaysActiveBytes: Int

    public init(
        name: String, architecture: String, fingerprint: String, layerCount: Int,
        moeLayers: [Int], expertCount: Int, expertsPerToken: Int, sharedExpertCount: Int,
        gating: GatingFunction, normalizesTopK: Bool, weightsScale: Float,
        totalParameters: Int, activeParameters: Int, parametersPerExpert: Int,
        bytesPerExpert: Int, alwaysActiveBytes: Int
    ) {
        self.name = name
        self.architecture = architecture
        self.fingerprint = fingerprint
        self.layerCount = layerCount
        self.moeLayers = moeLayers
        self.expertCount = expertCount
        self.expertsPerToken = expertsPerToken
        self.sharedExpertCount = sharedExpertCount
        self.gating = gating
        self.normalizesTopK = normalizesTopK
        self.weightsScale = weightsScale
        self.totalParameters = totalParameters
        self.activeParameters = activeParameters
        self.parametersPerExpert = parametersPerExpert
        self.bytesPerExpert = bytesPerExpert
        self.alwaysActiveBytes = alwaysActiveBytes
    }

    /// The fair share of activations each expert would get under perfectly even routing: k/E.
    public var fairShare: Double {
        expertCount == 0 ? 0 : Double(expertsPerToken) / Double(expertCount)
    }
}
