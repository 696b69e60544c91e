// Granite MoE (granite-3.x-1b-a400m, 3b-a800m, GraniteMoeShared), as llama.cpp's `granitemoe`
// graph runs it.
//
// Tensors: the `llama` set (q/k rows permuted by the converter, so NORM RoPE), experts sized by
// `feed_forward_length`, optional attn_output.bias, optional ungated shared expert; `output`
// usually absent (tied to token_embd).
// Four µP multipliers: x0 = embedding × `embedding_scale`; the attention scale is
// `attention.scale` instead of 1/sqrt(d); each branch output is multiplied by `residual_scale`
// before its residual add; logits are divided by `logit_scale` (mandatory key).
// Routing: softmax over all experts, top-k, renormalised (transformers Granite takes top-k of the
// logits and softmaxes those k: the same weights).

extension Architecture {
    /// `granitemoe`.
    public static let granitemoe = Architecture(
        name: "granitemoe",
        displayName: "Granite MoE",
        ropePairing: .adjacent,
        routing: RoutingPolicy(gating: .softmax, normalizesTopK: true),
        sharedExpertGate: .ungated,
        expertWidthFromExpertKey: false,
        allowsTiedOutput: true,
        requiresQKNorm: false,
        usesGraniteMultipliers: true)
}
