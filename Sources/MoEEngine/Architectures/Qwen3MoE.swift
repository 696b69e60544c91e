// Qwen3-MoE (Qwen3-30B-A3B, Qwen3-235B-A22B), as llama.cpp's `qwen3moe` graph runs it.
//
// Tensors per block: attn_norm [E]; attn_q [E, H·d], attn_k/attn_v [E, Hkv·d], attn_output
// [H·d, E] (no biases); attn_q_norm/attn_k_norm [d] (RMSNorm of each head); ffn_norm [E];
// ffn_gate_inp [E, NE]; ffn_{gate,up}_exps [E, FFe, NE]; ffn_down_exps [FFe, E, NE].
// d is `attention.key_length` (128 for Qwen3-30B-A3B while E/H is 64). Experts use
// `expert_feed_forward_length`; `feed_forward_length` is an unused dense width.
// Routing: softmax over all experts, top-k, always renormalised (transformers:
// norm_topk_prob = true in every released config; GGUF does not store it).

extension Architecture {
    /// `qwen3moe`.
    public static let qwen3moe = Architecture(
        name: "qwen3moe",
        displayName: "Qwen3-MoE",
        ropePairing: .halves,
        routing: RoutingPolicy(gating: .softmax, normalizesTopK: true),
        sharedExpertGate: .ungated,
        expertWidthFromExpertKey: true,
        allowsTiedOutput: true,
        requiresQKNorm: true,
        usesGraniteMultipliers: false)
}
