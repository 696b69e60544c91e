"""Measure the shipped moetop-tiny: held-out loss, routing specialisation, samples, loss curve.

Everything is computed from the GGUF as shipped (weights read back into a float32
transformers model), so the numbers describe the file moetop embeds.

Writes Training/results/analysis.json, Training/results/analysis.md (the tables quoted in
the model card) and Training/results/loss_curve.png.

Usage: python3 Training/analyze.py [--gguf PATH] [--windows 24] [--seq 256]
"""

import argparse
import json
import math
import os

import numpy as np
import torch

from common import DOMAINS, GGUF_PATH, HERE, TOKENIZER_PATH, TOKENS_DIR, TRAIN_LOG, WORK
from reference import load_hf_from_gguf

RESULTS = os.path.join(HERE, "results")

SAMPLE_PROMPTS = {
    "prose": "Python is a programming language that",
    "python": "import os\n\n\ndef list_files(directory):\n",
    "c": "#include <stdio.h>\n\nextern int",
    "legal": "Permission is hereby granted",
    "manual": "NAME\n       ls - list directory contents\n\nSYNOPSIS\n",
    "foreign": "Die Datei wird",
    "arithmetic": "17 + 25 = 42\n8 * 6 = ",
}


def js_divergence(p, q):
    """Jensen-Shannon divergence in bits (0 = identical, 1 = disjoint)."""
    m = 0.5 * (p + q)

    def kl(a, b):
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / b[mask])))

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


@torch.no_grad()
def heldout_pass(model, config, windows, seq):
    """Mean held-out cross-entropy per domain and top-k selection counts [layer, expert]."""
    losses, counts, n_tokens = {}, {}, {}
    for domain in DOMAINS:
        tokens = torch.from_numpy(np.load(f"{TOKENS_DIR}/{domain}.valid.npy").astype(np.int64))
        n = min(windows, len(tokens) // seq)
        rows = tokens[: n * seq].view(n, seq)
        total_loss, total = 0.0, 0
        count = np.zeros((config.num_hidden_layers, config.num_experts))
        for start in range(0, n, 4):
            batch = rows[start : start + 4]
            out = model(input_ids=batch, labels=batch.clone(), output_router_logits=True)
            predicted = batch.numel() - batch.shape[0]
            total_loss += out.loss.item() * predicted
            total += predicted
            for layer, logits in enumerate(out.router_logits):
                chosen = torch.topk(torch.softmax(logits.float(), -1), config.num_experts_per_tok, -1).indices
                count[layer] += np.bincount(chosen.flatten().numpy(), minlength=config.num_experts)
        losses[domain] = total_loss / total
        counts[domain] = count
        n_tokens[domain] = n * seq
        print(f"{domain:10s} held-out loss {losses[domain]:.3f} ({n * seq} tokens)", flush=True)
    return losses, counts, n_tokens


@torch.no_grad()
def samples(model, tokenizer, eot):
    out = {}
    for domain, prompt in SAMPLE_PROMPTS.items():
        ids = torch.tensor([tokenizer.encode(prompt, add_special_tokens=False).ids])
        greedy = model.generate(ids, max_new_tokens=48, do_sample=False, eos_token_id=eot, pad_token_id=eot)
        torch.manual_seed(7)
        sampled = model.generate(ids, max_new_tokens=64, do_sample=True, temperature=0.8, top_k=40,
                                 eos_token_id=eot, pad_token_id=eot)
        out[domain] = {
            "prompt": prompt,
            "greedy": tokenizer.decode(greedy[0, ids.shape[1]:].tolist()),
            "sampled_t0.8_k40_seed7": tokenizer.decode(sampled[0, ids.shape[1]:].tolist()),
        }
        print(f"--- {domain}\n{prompt}|{out[domain]['greedy']}", flush=True)
    return out


def plot_loss(path):
    with open(TRAIN_LOG) as handle:
        records = [json.loads(line) for line in handle]
    steps = [r["step"] for r in records if "loss" in r]
    tokens = [r["tokens"] / 1e6 for r in records if "loss" in r]
    loss = [r["loss"] for r in records if "loss" in r]
    smooth, acc = [], None
    for value in loss:
        acc = value if acc is None else 0.95 * acc + 0.05 * value
        smooth.append(acc)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.plot(tokens, loss, color="#bbbbbb", linewidth=0.6, label="train (per step)")
    ax.plot(tokens, smooth, color="black", linewidth=1.4, label="train (EMA 0.95)")
    evals = [r for r in records if "valid" in r]
    for domain in DOMAINS:
        xs = [r["tokens"] / 1e6 for r in evals]
        ys = [r["valid"][domain] for r in evals]
        ax.plot(xs, ys, marker=".", linewidth=1, label=f"held-out {domain}")
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title("moetop-tiny training loss")
    ax.set_ylim(0, max(6.0, min(loss[:1] or [6.0])))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    return {"steps": steps[-1] if steps else 0, "tokens": records[-1]["tokens"],
            "seconds": records[-1]["elapsed"], "final_train_loss_ema": smooth[-1] if smooth else None}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=GGUF_PATH)
    parser.add_argument("--windows", type=int, default=24, help="held-out windows per domain")
    parser.add_argument("--seq", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(2)
    os.makedirs(RESULTS, exist_ok=True)
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(TOKENIZER_PATH)
    eot = tokenizer.token_to_id("<|endoftext|>")
    model, config = load_hf_from_gguf(args.gguf, tokenizer.get_vocab_size())

    # Step 1: parameter counts (total and active per token).
    E, L, NE, K = config.hidden_size, config.num_hidden_layers, config.num_experts, config.num_experts_per_tok
    per_expert = 3 * E * config.moe_intermediate_size
    total = sum(p.numel() for p in model.parameters())
    active = total - L * (NE - K) * per_expert
    params = {"total": total, "active_per_token": active, "per_expert": per_expert,
              "experts_all_layers": L * NE * per_expert, "embedding": config.vocab_size * E}

    # Step 2: held-out loss and routing counts per domain.
    losses, counts, n_tokens = heldout_pass(model, config, args.windows, args.seq)

    # Step 3: specialisation: shares, divergence per layer, dead experts.
    shares = {d: counts[d] / counts[d].sum(axis=1, keepdims=True) for d in DOMAINS}
    overall = sum(counts[d] for d in DOMAINS)
    overall_share = overall / overall.sum(axis=1, keepdims=True)
    divergence = []
    for layer in range(L):
        pair = [js_divergence(shares[a][layer], shares[b][layer])
                for i, a in enumerate(DOMAINS) for b in DOMAINS[i + 1:]]
        to_mix = {d: js_divergence(shares[d][layer], overall_share[layer]) for d in DOMAINS}
        divergence.append({"layer": layer, "mean_pairwise_js_bits": float(np.mean(pair)),
                           "max_pairwise_js_bits": float(np.max(pair)),
                           "min_pairwise_js_bits": float(np.min(pair)),
                           "js_to_mixture_bits": to_mix})
    fair = K / NE
    dead = [(l, e) for l in range(L) for e in range(NE) if overall[l, e] == 0]
    rare = [(l, e) for l in range(L) for e in range(NE) if overall_share[l, e] < 0.1 * (1 / NE)]

    # Step 4: samples and the loss curve.
    sample_text = samples(model, tokenizer, eot)
    training = plot_loss(os.path.join(RESULTS, "loss_curve.png")) if os.path.exists(TRAIN_LOG) else {}
    ckpt_meta = os.path.join(WORK, "sources_used.json")

    result = {
        "parameters": params,
        "training": training,
        "heldout_loss_nats": losses,
        "heldout_tokens": n_tokens,
        "expert_share": {d: shares[d].round(4).tolist() for d in DOMAINS},
        "overall_share": overall_share.round(4).tolist(),
        "divergence": divergence,
        "dead_experts": dead,
        "rare_experts_below_10pct_of_fair": rare,
        "samples": sample_text,
    }
    with open(os.path.join(RESULTS, "analysis.json"), "w") as handle:
        json.dump(result, handle, indent=1)
    write_markdown(result, config, os.path.join(RESULTS, "analysis.md"))
    print(open(os.path.join(RESULTS, "analysis.md")).read())


def write_markdown(r, config, path):
    L, NE = config.num_hidden_layers, config.num_experts
    lines = ["# moetop-tiny: measured (Training/analyze.py)", ""]
    p = r["parameters"]
    lines += [f"Parameters: {p['total']:,d} total, {p['active_per_token']:,d} active per token "
              f"({100 * p['active_per_token'] / p['total']:.1f} %).", ""]
    t = r.get("training") or {}
    if t:
        lines += [f"Training: {t['steps']} steps, {t['tokens']:,d} tokens, {t['seconds'] / 60:.1f} min.", ""]
    lines += ["## Held-out loss per domain (nats/token)", "", "| domain | loss | perplexity | tokens |",
              "|---|---|---|---|"]
    for d in DOMAINS:
        loss = r["heldout_loss_nats"][d]
        lines.append(f"| {d} | {loss:.3f} | {math.exp(loss):.1f} | {r['heldout_tokens'][d]:,d} |")
    lines += ["", "## Expert share per domain and layer (% of top-2 selections on held-out text)", ""]
    fair = 100 * config.num_experts_per_tok / NE / config.num_experts_per_tok
    lines.append(f"Fair share is {fair:.2f} % per expert. Bold: at least twice the fair share.")
    for layer in range(L):
        lines += ["", f"Layer {layer}", "", "| domain | " + " | ".join(f"E{e}" for e in range(NE)) + " |",
                  "|---|" + "---|" * NE]
        for d in DOMAINS + ["all"]:
            row = r["overall_share"][layer] if d == "all" else r["expert_share"][d][layer]
            cells = []
            for s in row:
                v = 100 * s
                cells.append(f"**{v:.1f}**" if v >= 2 * fair else f"{v:.1f}")
            lines.append(f"| {d} | " + " | ".join(cells) + " |")
    lines += ["", "## Divergence between domain routing profiles (Jensen-Shannon, bits)", "",
              "| layer | mean pairwise | min pairwise | max pairwise | " + " | ".join(f"{d} vs all" for d in DOMAINS) + " |",
              "|---|---|---|---|" + "---|" * len(DOMAINS)]
    for dv in r["divergence"]:
        lines.append(f"| {dv['layer']} | {dv['mean_pairwise_js_bits']:.3f} | {dv['min_pairwise_js_bits']:.3f} | "
                     f"{dv['max_pairwise_js_bits']:.3f} | "
                     + " | ".join(f"{dv['js_to_mixture_bits'][d]:.3f}" for d in DOMAINS) + " |")
    lines += ["", f"Dead experts (never chosen on held-out text of all domains): "
              f"{len(r['dead_experts'])} {r['dead_experts'] or ''}",
              f"Rare experts (below a tenth of the fair share): {len(r['rare_experts_below_10pct_of_fair'])} "
              f"{r['rare_experts_below_10pct_of_fair'] or ''}", "", "## Samples", ""]
    for d, s in r["samples"].items():
        lines += [f"### {d}", "", "Greedy (48 tokens), prompt then continuation:", "", "```",
                  s["prompt"] + s["greedy"], "```", "",
                  "Sampled (temperature 0.8, top-k 40, seed 7, 64 tokens):", "", "```",
                  s["prompt"] + s["sampled_t0.8_k40_seed7"], "```", ""]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
