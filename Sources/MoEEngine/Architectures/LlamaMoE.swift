// `llama` with experts (Mixtral 8x7B / 8x22B), as llama.cpp's `llama` graph runs it. Without
// `ffn_gate_inp` a block is a dense SwiGLU FFN (ffn_gate/ffn_up [E, FF], ffn_down [FF, E]), so
// plain Llama files run too.
//
// Tensors per block: attn_norm; attn_q/k/v (optional biases), attn_output (optional bias);
// ffn_norm; ffn_gate_inp [E, NE]; ffn_{gate,up}_exps [E, FF, NE]; ffn_down_exps [FF, E, NE];
// optional ungated shared expert ffn_{gate,up,down}_shexp. `output` optional (tied).
// The converter permuted the q/k rows inside each head, so RoPE pairs adjacent elements (NORM).
// Routing: softmax over all experts, top-k, renormalised (transformers Mixtral: softmax, top-k,
// divide by the sum: the same numbers).

extension Architecture {
    /// `llama` (Mixtral and other Llama-family models with or without experts).
    public static let llamaMoE = Architecture(
        name: "llama",
        displayName: "Llama / Mixtral",
        ropePairing: .adjacent,
        routing: RoutingPolicy(gating: .softmax, normalizesTopK: true),
        sharedExpertGate: .ungated,
        expertWidthFromExpertKey: false,
        allowsTiedOutput: true,
        requiresQKNorm: false,
        usesGraniteMultipliers: false)
}
