"""Train moetop-tiny (transformers Qwen3MoeForCausalLM) on the tokenised corpus.

Every batch mixes the domains equally (each sequence is a random window of one domain).
The loss is next-token cross-entropy plus router_aux_loss_coef times the Switch-style
load-balancing loss of transformers (output_router_logits=True), computed per layer and
averaged (transformers' own pools all layers, which lets single layers collapse). The learning-rate schedule (warm-up, then
cosine to 10 %) runs on progress = max(step / steps, elapsed / minutes), so a run ends on
time with a fully annealed learning rate even on a busy machine.

Usage: python3 Training/train.py [--steps 2000] [--minutes 70] [--batch 16] [--seq 256]
Writes Training/work/model.pt (state dict + config) and Training/work/train_log.jsonl.
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch

from common import CHECKPOINT, DOMAINS, TOKENIZER_PATH, TOKENS_DIR, TRAIN_LOG, model_config


def load_tokens(split):
    return {d: torch.from_numpy(np.load(f"{TOKENS_DIR}/{d}.{split}.npy").astype(np.int64)) for d in DOMAINS}


def sample_batch(data, batch, seq, generator):
    """`batch` windows of seq+1 tokens; domains are assigned round-robin from a random start."""
    rows, domains = [], []
    offset = int(torch.randint(len(DOMAINS), (1,), generator=generator))
    for i in range(batch):
        domain = DOMAINS[(offset + i) % len(DOMAINS)]
        tokens = data[domain]
        start = int(torch.randint(len(tokens) - seq - 1, (1,), generator=generator))
        rows.append(tokens[start : start + seq + 1])
        domains.append(domain)
    return torch.stack(rows), domains


def fixed_eval_batches(valid, seq, per_domain):
    """Evenly spaced, non-overlapping held-out windows: the same ones at every evaluation."""
    batches = {}
    for domain, tokens in valid.items():
        n = min(per_domain, (len(tokens) - 1) // seq)
        stride = (len(tokens) - 1 - seq) // max(n - 1, 1)
        batches[domain] = torch.stack([tokens[i * stride : i * stride + seq + 1] for i in range(n)])
    return batches


@torch.no_grad()
def evaluate(model, batches):
    model.eval()
    losses = {}
    for domain, rows in batches.items():
        out = model(input_ids=rows[:, :-1], labels=rows[:, :-1].clone(), output_router_logits=False)
        losses[domain] = out.loss.item()
    model.train()
    return losses


def balance_loss(router_logits, config):
    """The Switch-style load-balancing loss of transformers, applied to each layer on its own
    and averaged, so that every layer (not only the sum over layers) spreads its tokens."""
    from transformers.models.qwen3_moe.modeling_qwen3_moe import load_balancing_loss_func

    per_layer = [
        load_balancing_loss_func((logits,), config.num_experts, config.num_experts_per_tok)
        for logits in router_logits
    ]
    return torch.stack(per_layer).mean()


def learning_rate(progress, peak, warmup):
    if progress < warmup:
        return peak * progress / warmup
    t = (progress - warmup) / (1 - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=80.0, help="wall-clock budget")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup", type=float, default=0.03, help="fraction of progress")
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--eval-windows", type=int, default=4, help="held-out windows per domain")
    parser.add_argument("--threads", type=int, default=1,
                        help="1 is far faster than 2 on a machine shared with other jobs")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    from tokenizers import Tokenizer
    from transformers import Qwen3MoeForCausalLM

    # Step 1: the model, from the shared configuration.
    vocab = Tokenizer.from_file(TOKENIZER_PATH).get_vocab_size()
    config = model_config(vocab)
    model = Qwen3MoeForCausalLM(config)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params:,d}", flush=True)

    # Step 2: data and optimiser (no weight decay on norms).
    train, valid = load_tokens("train"), load_tokens("valid")
    eval_batches = fixed_eval_batches(valid, args.seq, args.eval_windows)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.95),
    )
    generator = torch.Generator().manual_seed(args.seed)

    # Step 3: the loop. Progress is the larger of step and time fractions.
    log = open(TRAIN_LOG, "w")
    start = time.time()
    step, tokens_seen = 0, 0
    while True:
        elapsed = time.time() - start
        progress = max(step / args.steps, elapsed / (args.minutes * 60))
        if progress >= 1.0:
            break
        lr = learning_rate(progress, args.lr, args.warmup)
        for group in optimizer.param_groups:
            group["lr"] = lr
        rows, _ = sample_batch(train, args.batch, args.seq, generator)
        inputs = rows[:, :-1]
        out = model(input_ids=inputs, output_router_logits=True)
        ce = torch.nn.functional.cross_entropy(
            out.logits[:, :-1].reshape(-1, config.vocab_size), inputs[:, 1:].reshape(-1)
        )
        aux = balance_loss(out.router_logits, config)
        loss = ce + config.router_aux_loss_coef * aux
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item()
        optimizer.step()
        step += 1
        tokens_seen += inputs.numel()
        record = dict(step=step, tokens=tokens_seen, elapsed=round(time.time() - start, 2),
                      loss=round(ce.item(), 4), aux=round(aux.item(), 4), lr=lr,
                      grad_norm=round(grad_norm, 3))
        if step % args.eval_every == 0:
            record["valid"] = {k: round(v, 4) for k, v in evaluate(model, eval_batches).items()}
            save(model, config, step, tokens_seen, time.time() - start)
        log.write(json.dumps(record) + "\n")
        log.flush()
        if step % 10 == 0 or "valid" in record:
            print(json.dumps(record), flush=True)

    # Step 4: final evaluation and checkpoint.
    record = dict(step=step, tokens=tokens_seen, elapsed=round(time.time() - start, 2), final=True,
                  valid={k: round(v, 4) for k, v in evaluate(model, eval_batches).items()})
    log.write(json.dumps(record) + "\n")
    log.close()
    print(json.dumps(record), flush=True)
    save(model, config, step, tokens_seen, time.time() - start)


def save(model, config, step, tokens, seconds):
    tmp = CHECKPOINT + ".tmp"
    torch.save({"state_dict": model.state_dict(), "config": config.to_dict(), "step": step,
                "tokens": tokens, "seconds": seconds}, tmp)
    os.replace(tmp, CHECKPOINT)


if __name__ == "__main__":
    main()
