import MoERouting

/// How RoPE pairs the rotated dimensions of a head (reference §3.0).
public enum RopePairing: String, Sendable {
    /// ggml "NORM": element 2i rotates with element 2i+1. Used for `llama` and `granitemoe`,
    /// whose converter permuted the q/k rows so that this equals transformers' rotate-half.
    case adjacent
    /// ggml "NEOX": element i rotates with element i + n_rot/2 (transformers' rotate-half).
    case halves
}

/// How the shared expert of an MoE layer joins the routed experts' output.
public enum SharedExpertGate: Sendable {
    /// Added as it is (Granite MoE Shared, `llama` files with `expert_shared_feed_forward_length`).
    case ungated
    /// Scaled by sigmoid(`ffn_gate_inp_shexp` · x) first (qwen2moe).
    case sigmoid
}

/// What makes one architecture different from the shared pre-norm decoder recipe in
/// `Transformer.swift`. Each supported architecture defines one value in its own file.
public struct Architecture: Sendable {
    /// `general.architecture`.
    public let name: String
    /// A family name for people (`Qwen3-MoE`, `Mixtral` ...).
    public let displayName: String
    /// RoPE pairing (llama.cpp `llama_model_rope_type`).
    public let ropePairing: RopePairing
    /// Gating, renormalisation and scaling of the router.
    public let routing: RoutingPolicy
    /// How the shared expert, when the file has one, is combined.
    public let sharedExpertGate: SharedExpertGate
    /// Whether the per-expert width comes from `expert_feed_forward_length` (qwen2moe, qwen3moe)
    /// rather than `feed_forward_length` (llama, olmoe, granitemoe).
    public let expertWidthFromExpertKey: Bool
    /// Whether a missing `output.weight` means "reuse `token_embd.weight`".
    public let allowsTiedOutput: Bool
    /// Whether `attn_q_norm`/`attn_k_norm` are required.
    public let requiresQKNorm: Bool
    /// Whether the four Granite multipliers are read (embedding, attention, residual, logit).
    public let usesGraniteMultipliers: Bool

    /// Every architecture the engine runs.
    public static let supported: [Architecture] = [
        .qwen3moe, .qwen2moe, .olmoe, .llamaMoE, .granitemoe,
    ]

    /// The architecture named by `general.architecture`, or a typed error listing the supported
    /// ones.
    public static func named(_ name: String, file: String) throws -> Architecture {
        guard let found = supported.first(where: { $0.name == name }) else {
            throw EngineError.unsupportedArchitecture(
                file: file, found: name, supported: supported.map(\.name))
        }
        return found
    }
}
