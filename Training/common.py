"""Paths and constants shared by the moetop-tiny recipe."""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.environ.get("MOETOP_TRAIN_WORK", os.path.join(HERE, "work"))
CORPUS_DIR = os.path.join(WORK, "corpus")
TOKENIZER_PATH = os.path.join(WORK, "tokenizer.json")
TOKENS_DIR = os.path.join(WORK, "tokens")
CHECKPOINT = os.path.join(WORK, "model.pt")
TRAIN_LOG = os.path.join(WORK, "train_log.jsonl")
GGUF_PATH = os.environ.get("MOETOP_GGUF", "/work/artifacts/moetop-tiny.gguf")

DOMAINS = ["prose", "python", "c", "legal", "manual", "foreign", "arithmetic"]
EOT = "<|endoftext|>"
SPECIAL_TOKENS = [EOT, "<|im_start|>", "<|im_end|>"]

# The Qwen2 pre-tokenizer pattern (tokenizer.ggml.pre = "qwen2"): single digits.
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def model_config(vocab_size, **overrides):
    """The moetop-tiny architecture as a transformers Qwen3MoeConfig.

    norm_topk_prob is True because llama.cpp (and moetop) always renormalise the top-k
    weights for qwen3moe; the GGUF has no key for it, so both sides must agree by design.
    """
    from transformers import Qwen3MoeConfig

    settings = dict(
        vocab_size=vocab_size,
        hidden_size=128,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=32,
        num_experts=16,
        num_experts_per_tok=2,
        moe_intermediate_size=384,
        intermediate_size=768,  # unused dense width (every layer is MoE), kept for the GGUF key
        decoder_sparse_step=1,
        mlp_only_layers=[],
        norm_topk_prob=True,
        max_position_embeddings=512,
        rope_theta=10000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        output_router_logits=True,
        router_aux_loss_coef=0.02,
        initializer_range=0.02,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )
    settings.update(overrides)
    return Qwen3MoeConfig(**settings)
