"""Export the trained checkpoint and tokenizer to GGUF (architecture qwen3moe).

Tensor names, shapes and key types follow llama.cpp's converter for qwen3moe: large matrices
as F16; 1-D tensors (norms) and the router (ffn_gate_inp) as F32; experts stacked as
[experts, out, in] in numpy order. The tokenizer is stored as a gpt2 (byte-level BPE)
vocabulary with pre-tokenizer "qwen2". The output matrix is written explicitly even though
training ties it to the embedding, so a reader never needs the tied fallback.

Usage: python3 Training/export_gguf.py [--out /work/artifacts/moetop-tiny.gguf]
"""

import argparse
import json
import os

import gguf
import numpy as np
import torch

from common import CHECKPOINT, EOT, GGUF_PATH, SPECIAL_TOKENS, TOKENIZER_PATH

F32_SUFFIXES = ("_norm.weight", "ffn_gate_inp.weight")


def tokenizer_vocab(path):
    """Tokens in id order (byte-level alphabet; specials as plain text), types and merges."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    vocab = dict(data["model"]["vocab"])
    for added in data["added_tokens"]:
        vocab[added["content"]] = added["id"]
    tokens = [None] * len(vocab)
    for text, idx in vocab.items():
        tokens[idx] = text
    assert all(t is not None for t in tokens), "token ids are not contiguous"
    specials = {a["content"] for a in data["added_tokens"] if a["special"]}
    types = [
        gguf.TokenType.CONTROL if t in specials else gguf.TokenType.NORMAL for t in tokens
    ]
    merges = [m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]]
    return tokens, types, merges


def gguf_tensors(state, config):
    """(name, array) pairs in llama.cpp's qwen3moe naming, numpy (PyTorch) order."""
    n_ff = config["moe_intermediate_size"]
    yield "token_embd.weight", state["model.embed_tokens.weight"]
    yield "output_norm.weight", state["model.norm.weight"]
    output = state.get("lm_head.weight", state["model.embed_tokens.weight"])
    yield "output.weight", output
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        b = f"blk.{i}."
        yield b + "attn_norm.weight", state[p + "input_layernorm.weight"]
        yield b + "attn_q.weight", state[p + "self_attn.q_proj.weight"]
        yield b + "attn_k.weight", state[p + "self_attn.k_proj.weight"]
        yield b + "attn_v.weight", state[p + "self_attn.v_proj.weight"]
        yield b + "attn_output.weight", state[p + "self_attn.o_proj.weight"]
        yield b + "attn_q_norm.weight", state[p + "self_attn.q_norm.weight"]
        yield b + "attn_k_norm.weight", state[p + "self_attn.k_norm.weight"]
        yield b + "ffn_norm.weight", state[p + "post_attention_layernorm.weight"]
        yield b + "ffn_gate_inp.weight", state[p + "mlp.gate.weight"]
        gate_up = state[p + "mlp.experts.gate_up_proj"]  # [experts, 2*n_ff, n_embd]: gate rows first
        yield b + "ffn_gate_exps.weight", gate_up[:, :n_ff, :]
        yield b + "ffn_up_exps.weight", gate_up[:, n_ff:, :]
        yield b + "ffn_down_exps.weight", state[p + "mlp.experts.down_proj"]  # [experts, n_embd, n_ff]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=GGUF_PATH)
    parser.add_argument("--checkpoint", default=CHECKPOINT)
    args = parser.parse_args()

    ckpt = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    config, state = ckpt["config"], ckpt["state_dict"]
    tokens, types, merges = tokenizer_vocab(TOKENIZER_PATH)
    assert len(tokens) == config["vocab_size"], (len(tokens), config["vocab_size"])
    eot = tokens.index(EOT)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    writer = gguf.GGUFWriter(args.out, "qwen3moe")
    # Step 1: general and hyper-parameter keys, with llama.cpp's key types.
    writer.add_name("moetop-tiny")
    writer.add_description(
        "moetop's embedded default model: a small qwen3moe trained by Training/ in the moetop "
        "repository on Debian-shipped text (prose, Python, C, licences, manuals, de/fr/es, arithmetic)"
    )
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_expert_feed_forward_length(config["moe_intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_key_length(config["head_dim"])
    writer.add_value_length(config["head_dim"])
    rope_theta = config.get("rope_theta") or config["rope_parameters"]["rope_theta"]
    writer.add_rope_freq_base(float(rope_theta))
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_expert_count(config.get("num_experts") or config["num_local_experts"])
    writer.add_expert_used_count(config["num_experts_per_tok"])
    writer.add_vocab_size(config["vocab_size"])

    # Step 2: the tokenizer (gpt2 byte-level BPE, qwen2 pre-tokenizer, no BOS added).
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(eot)
    writer.add_eos_token_id(eot)
    writer.add_pad_token_id(eot)
    writer.add_add_bos_token(False)

    # Step 3: tensors: F32 for 1-D and router weights, F16 for the rest.
    n_f16 = n_f32 = 0
    for name, tensor in gguf_tensors(state, config):
        array = tensor.detach().to(torch.float32).contiguous().numpy()
        if array.ndim == 1 or name.endswith(F32_SUFFIXES):
            writer.add_tensor(name, array.astype(np.float32))
            n_f32 += 1
        else:
            writer.add_tensor(name, array.astype(np.float16))
            n_f16 += 1
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    size = os.path.getsize(args.out)
    print(f"wrote {args.out}: {size / 1e6:.2f} MB, {n_f16} F16 + {n_f32} F32 tensors, "
          f"{len(tokens)} tokens, {len(merges)} merges", flush=True)


if __name__ == "__main__":
    main()
