// OLMoE (OLMoE-1B-7B), as llama.cpp's `olmoe` graph runs it.
//
// Tensors per block: llama-like without biases; attn_q_norm [H·d] and attn_k_norm [Hkv·d]
// normalise the WHOLE projected q and k vectors (before they are split into heads), unlike
// qwen3moe's per-head norm. Experts use `feed_forward_length`. `output` is required.
// Routing: softmax over all experts, top-k, NOT renormalised (transformers: norm_topk_prob
// defaults to false).

extension Architecture {
    /// `olmoe`.
    public static let olmoe = Architecture(
        name: "olmoe",
        displayName: "OLMoE",
        ropePairing: .halves,
        routing: RoutingPolicy(gating: .softmax, normalizesTopK: false),
        sharedExpertGate: .ungated,
        expertWidthFromExpertKey: false,
        allowsTiedOutput: false,
        requiresQKNorm: true,
        usesGraniteMultipliers: false)
}
