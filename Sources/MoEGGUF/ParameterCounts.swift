/// Parameter counts of a model, from its tensor table: the one place moetop counts parameters.
///
/// A routed-expert tensor is a `blk.N.*_exps.*` tensor whose last dimension is the expert
/// (`ffn_gate_exps`, `ffn_up_exps`, `ffn_down_exps`, `ffn_gate_up_exps`, their biases); a MoE
/// layer is a block with a router (`blk.N.ffn_gate_inp.weight`); shared-expert tensors are the
/// `*_shexp*` ones (including qwen2moe's shared gate). Everything that is not a routed expert
/// runs for every token ("always on"), so the configured active parameters per token are
/// always-on + the sum over MoE layers of k x one expert. Embeddings count as always-on (a
/// lookup reads one row, but published "active" figures include them).
public struct ParameterCounts: Sendable, Equatable, Codable {
    /// Every element of every tensor.
    public var total = 0
    /// Stored bytes of every tensor.
    public var totalBytes = 0
    /// Elements of `token_embd.weight`.
    public var embedding = 0
    /// Block indices that have a router, ascending.
    public var moeLayers: [Int] = []
    /// For each entry of `moeLayers`: parameters of one routed expert in that layer.
    public var routedExpertParameters: [Int] = []
    /// For each entry of `moeLayers`: stored bytes of one routed expert in that layer.
    public var routedExpertBytes: [Int] = []
    /// Experts in each MoE layer (expert_count).
    public var expertsPerLayer = 0
    /// Top-k in each entry of `moeLayers`.
    public var expertsUsed: [Int] = []
    /// Parameters of all routed experts of all layers.
    public var routed = 0
    /// Parameters of the shared experts (and their gates), all layers.
    public var shared = 0
    /// Parameters that run for every token: total minus routed.
    public var alwaysOn = 0
    /// Stored bytes of the always-on tensors.
    public var alwaysOnBytes = 0
    /// Configured active parameters per token: always-on plus k experts per MoE layer.
    public var active = 0
    /// Stored bytes of weights read per token as configured: always-on bytes plus k experts'
    /// bytes per MoE layer (the embedding counted whole, though a lookup reads one row).
    public var activeBytes = 0

    public init() {}

    /// Totals only, for a GGUF file that is not a model (no `general.architecture` or no
    /// `block_count`): every tensor counts as always-on.
    public static func unconfigured(file: GGUFFile) -> ParameterCounts {
        var counts = ParameterCounts()
        for tensor in file.tensors {
            counts.total += tensor.elementCount
            counts.totalBytes += tensor.byteCount
            if tensor.name == "token_embd.weight" { counts.embedding = tensor.elementCount }
        }
        counts.alwaysOn = counts.total
        counts.alwaysOnBytes = counts.totalBytes
        counts.active = counts.total
        counts.activeBytes = counts.totalBytes
        return counts
    }

    /// Counts the tensors of `file`, with top-k from `configuration`. Throws when an expert
    /// tensor's last dimension is not expert_count (so the per-expert split would be a guess).
    public init(file: GGUFFile, configuration: ModelConfiguration) throws(GGUFError) {
        let experts = configuration.expertCount ?? 0
        expertsPerLayer = experts
        var perLayerParameters: [Int: Int] = [:]
        var perLayerBytes: [Int: Int] = [:]
        var routerLayers = Set<Int>()

        for tensor in file.tensors {
            total += tensor.elementCount
            totalBytes += tensor.byteCount
            if tensor.name == "token_embd.weight" { embedding = tensor.elementCount }
            guard let layer = Self.layerIndex(of: tensor.name) else {
                alwaysOnBytes += tensor.byteCount
                continue
            }
            if Self.isRouter(tensor.name) { routerLayers.insert(layer) }
            if Self.isSharedExpert(tensor.name) { shared += tensor.elementCount }
            if Self.isRoutedExpert(tensor.name) {
                guard experts > 0, tensor.shape.count >= 2, tensor.shape.last == experts else {
                    throw GGUFError(
                        path: file.path, offset: tensor.infoOffset,
                        reason: .tensorShapeMismatch(
                            tensor: tensor.name, found: tensor.shape,
                            expected: "a last dimension of \(experts) (expert_count)"))
                }
                routed += tensor.elementCount
                perLayerParameters[layer, default: 0] += tensor.elementCount / experts
                perLayerBytes[layer, default: 0] += tensor.byteCount / experts
            } else {
                alwaysOnBytes += tensor.byteCount
            }
        }
        alwaysOn = total - routed

        moeLayers = routerLayers.sorted()
        routedExpertParameters = moeLayers.map { perLayerParameters[$0] ?? 0 }
        routedExpertBytes = moeLayers.map { perLayerBytes[$0] ?? 0 }
        expertsUsed = moeLayers.map { configuration.expertUsedCount?[$0] ?? 0 }
        active = alwaysOn
        activeBytes = alwaysOnBytes
        for index in moeLayers.indices {
            active += expertsUsed[index] * routedExpertParameters[index]
            activeBytes += expertsUsed[index] * routedExpertBytes[index]
        }
    }

    /// N for a `blk.N.*` tensor name.
    public static func layerIndex(of name: String) -> Int? {
        guard name.hasPrefix("blk.") else { return nil }
        let rest = name.dropFirst(4)
        guard let dot = rest.firstIndex(of: ".") else { return nil }
        return Int(rest[..<dot])
    }

    /// Whether `name` is a router (`blk.N.ffn_gate_inp.weight` or `.bias`).
    public static func isRouter(_ name: String) -> Bool {
        name.hasSuffix(".ffn_gate_inp.weight") || name.hasSuffix(".ffn_gate_inp.bias")
    }

    /// Whether `name` is a routed-expert tensor (experts stacked in its last dimension).
    public static func isRoutedExpert(_ name: String) -> Bool {
        name.contains("_exps.")
    }

    /// Whether `name` belongs to a shared expert.
    public static func isSharedExpert(_ name: String) -> Bool {
        name.contains("_shexp")
    }
}
