// Qwen2-MoE (Qwen1.5-MoE-A2.7B, Qwen2-57B-A14B), as llama.cpp's `qwen2moe` graph runs it.
//
// Tensors per block: as qwen3moe without QK-norm, plus q/k/v biases (attn_q.bias [H·d],
// attn_k.bias and attn_v.bias [Hkv·d]) and an always-on shared expert: ffn_gate_inp_shexp [E]
// (its gate), ffn_{gate,up}_shexp [E, FFs], ffn_down_shexp [FFs, E]. `output` is required.
// Routing: softmax over all experts, top-k, NOT renormalised (the weights sum to less than one).
// Shared expert: sigmoid(ffn_gate_inp_shexp · x) · SwiGLU_shexp(x), added to the routed output.
// (llama.cpp computes that sigmoid as silu(z)/z, NaN at z = 0; we compute the sigmoid.)

extension Architecture {
    /// `qwen2moe`.
    public static let qwen2moe = Architecture(
        name: "qwen2moe",
        displayName: "Qwen2-MoE",
        ropePairing: .halves,
        routing: RoutingPolicy(gating: .softmax, normalizesTopK: false),
        sharedExpertGate: .sigmoid,
        expertWidthFromExpertKey: true,
        allowsTiedOutput: false,
        requiresQKNorm: false,
        usesGraniteMultipliers: false)
}
