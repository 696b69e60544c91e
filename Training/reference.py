"""Reference outputs of transformers on the shipped GGUF, for moetop's engine tests.

Reads the weights back from the GGUF (so the F16 rounding is included), loads them into a
float32 transformers Qwen3MoeForCausalLM, and for three prompts of different domains records
the prompt ids (HF tokenizer), the 24-token greedy continuation (argmax of a full forward
pass at every step, no cache), the logit margin between the best and second-best token at
each step, and for every layer and prompt token the top-k experts and their renormalised
weights.

Usage: python3 Training/reference.py [--gguf PATH] [--out Tests/.../moetop_tiny_reference.json]
"""

import argparse
import hashlib
import json
import os

import gguf
import numpy as np
import torch

from common import CHECKPOINT, GGUF_PATH, HERE, TOKENIZER_PATH, model_config

DEFAULT_OUT = os.path.join(HERE, "..", "Tests", "MoEEngineTests", "Fixtures", "moetop_tiny_reference.json")

PROMPTS = [
    ("python", "def read_config(path):\n    with open(path) as f:\n"),
    ("prose", "The tutorial shows how to define a function"),
    ("arithmetic", "12 + 7 = 19\n35 + 48 = "),
]


def read_gguf(path):
    """GGUF tensors as float32 numpy arrays in numpy order, and the metadata we need."""
    reader = gguf.GGUFReader(path)
    tensors = {t.name: np.array(t.data, dtype=np.float32) for t in reader.tensors}
    meta = {}
    for key in ("qwen3moe.expert_count", "qwen3moe.block_count", "qwen3moe.expert_used_count"):
        field = reader.fields[key]
        meta[key] = int(field.parts[field.data[0]][0])
    return tensors, meta


def state_dict_from_gguf(tensors, n_layers):
    """Invert export_gguf.gguf_tensors: llama.cpp names back to transformers names."""
    t = lambda name: torch.from_numpy(tensors[name].copy())
    state = {
        "model.embed_tokens.weight": t("token_embd.weight"),
        "model.norm.weight": t("output_norm.weight"),
        "lm_head.weight": t("output.weight"),
    }
    for i in range(n_layers):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        state[p + "input_layernorm.weight"] = t(b + "attn_norm.weight")
        state[p + "self_attn.q_proj.weight"] = t(b + "attn_q.weight")
        state[p + "self_attn.k_proj.weight"] = t(b + "attn_k.weight")
        state[p + "self_attn.v_proj.weight"] = t(b + "attn_v.weight")
        state[p + "self_attn.o_proj.weight"] = t(b + "attn_output.weight")
        state[p + "self_attn.q_norm.weight"] = t(b + "attn_q_norm.weight")
        state[p + "self_attn.k_norm.weight"] = t(b + "attn_k_norm.weight")
        state[p + "post_attention_layernorm.weight"] = t(b + "ffn_norm.weight")
        state[p + "mlp.gate.weight"] = t(b + "ffn_gate_inp.weight")
        state[p + "mlp.experts.gate_up_proj"] = torch.cat(
            [t(b + "ffn_gate_exps.weight"), t(b + "ffn_up_exps.weight")], dim=1
        )
        state[p + "mlp.experts.down_proj"] = t(b + "ffn_down_exps.weight")
    return state


def load_hf_from_gguf(path, vocab_size):
    """A float32 transformers model holding exactly the weights stored in the GGUF."""
    from transformers import Qwen3MoeForCausalLM

    tensors, meta = read_gguf(path)
    config = model_config(vocab_size, tie_word_embeddings=False)
    assert config.num_experts == meta["qwen3moe.expert_count"]
    assert config.num_hidden_layers == meta["qwen3moe.block_count"]
    model = Qwen3MoeForCausalLM(config).float().eval()
    model.load_state_dict(state_dict_from_gguf(tensors, config.num_hidden_layers), strict=True)
    return model, config


@torch.no_grad()
def greedy(model, ids, n):
    ids = list(ids)
    out, margins = [], []
    for _ in range(n):
        logits = model(input_ids=torch.tensor([ids])).logits[0, -1].float()
        top2 = torch.topk(logits, 2)
        nxt = int(top2.indices[0])
        margins.append(float(top2.values[0] - top2.values[1]))
        out.append(nxt)
        ids.append(nxt)
    return out, margins


@torch.no_grad()
def routing(model, ids, k):
    """Per layer, per prompt token: top-k experts and renormalised weights (softmax first)."""
    out = model(input_ids=torch.tensor([ids]), output_router_logits=True)
    layers = []
    for logits in out.router_logits:
        probs = torch.softmax(logits.float(), dim=-1)
        top = torch.topk(probs, k, dim=-1)
        weights = top.values / top.values.sum(dim=-1, keepdim=True)
        layers.append(
            {
                "experts": top.indices.tolist(),
                "weights": [[round(w, 6) for w in row] for row in weights.tolist()],
            }
        )
    return layers, out.logits[0, -1]


@torch.no_grad()
def checkpoint_difference(model, tokenizer):
    """Largest |logit| difference between the trained float32 checkpoint and the GGUF weights."""
    if not os.path.exists(CHECKPOINT):
        return None
    from transformers import Qwen3MoeConfig, Qwen3MoeForCausalLM

    ckpt = torch.load(CHECKPOINT, map_location="cpu", weights_only=False)
    trained = Qwen3MoeForCausalLM(Qwen3MoeConfig(**ckpt["config"])).float().eval()
    trained.load_state_dict(ckpt["state_dict"])
    ids = torch.tensor([tokenizer.encode(PROMPTS[0][1], add_special_tokens=False).ids])
    diff = (trained(input_ids=ids).logits - model(input_ids=ids).logits).abs().max().item()
    print(f"trained checkpoint vs GGUF weights: max |logit difference| {diff:.4g}", flush=True)
    return round(diff, 6)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=GGUF_PATH)
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--tokens", type=int, default=24)
    args = parser.parse_args()
    torch.set_num_threads(2)
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(TOKENIZER_PATH)
    model, config = load_hf_from_gguf(args.gguf, tokenizer.get_vocab_size())
    with open(args.gguf, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()

    # Step 1: the F16 rounding is the only difference from the trained checkpoint.
    rounding = checkpoint_difference(model, tokenizer)

    cases = []
    for domain, text in PROMPTS:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        continuation, margins = greedy(model, ids, args.tokens)
        layers, last = routing(model, ids, config.num_experts_per_tok)
        top5 = torch.topk(last, 5)
        cases.append(
            {
                "domain": domain,
                "prompt": text,
                "prompt_ids": ids,
                "greedy_ids": continuation,
                "greedy_text": tokenizer.decode(continuation),
                "greedy_margins": [round(m, 5) for m in margins],
                "last_prompt_logits_top5": {
                    "ids": top5.indices.tolist(),
                    "logits": [round(v, 5) for v in top5.values.tolist()],
                },
                "router_topk_per_layer": layers,
            }
        )
        print(f"{domain}: {text!r} -> {tokenizer.decode(continuation)!r} "
              f"(smallest margin {min(margins):.4f})", flush=True)

    fixture = {
        "model": "moetop-tiny",
        "gguf_sha256": digest,
        "generated_by": "Training/reference.py (transformers Qwen3MoeForCausalLM, float32, "
        "weights read back from the GGUF; greedy = argmax of a full forward pass per step)",
        "architecture": "qwen3moe",
        "experts": config.num_experts,
        "top_k": config.num_experts_per_tok,
        "layers": config.num_hidden_layers,
        "notes": "router_topk_per_layer[layer].experts[token] lists the top-k expert ids in "
        "descending probability; weights are the softmax probabilities renormalised over the "
        "top-k. greedy_margins[i] is logit(best) - logit(second) at generated step i.",
        "f16_rounding_max_abs_logit_difference": rounding,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(fixture, handle, indent=1)
        handle.write("\n")
    print(f"wrote {os.path.abspath(args.out)} ({os.path.getsize(args.out):,d} bytes)")


if __name__ == "__main__":
    main()
