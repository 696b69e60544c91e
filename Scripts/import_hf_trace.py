#!/usr/bin/env python3
"""Write moetop traces (docs/trace-format.md) from routing recorded outside moetop.

  hf      run a Hugging Face MoE model with output_router_logits and record every token's
          routing: expert ids, the weights the model applies, probabilities and logits
  ids     convert a [tokens, layers, k] integer array saved with numpy.save (vLLM's
          routed_experts, SGLang's per-request routed_experts) given the model's config.json
  sglang  convert an SGLang expert-distribution dump in per_token mode (a torch.save file)

Examples:
  python3 Scripts/import_hf_trace.py hf --model DIR_OR_HUB_ID --prompt "def parse(line):" \\
      --max-new-tokens 32 --out run.jsonl.gz
  python3 Scripts/import_hf_trace.py ids --ids routed.npy --config config.json --out run.jsonl
  python3 Scripts/import_hf_trace.py sglang --dump dump.pt --config config.json --out run.jsonl

Needs numpy; `hf` and `sglang` need torch, `hf` also transformers. Nothing is downloaded unless
--model names a hub id that is not cached.
"""

import argparse
import datetime
import gzip
import hashlib
import json
import sys

FORMAT = "moetop-trace"
VERSION = 1


# ---------------------------------------------------------------- writing


class TraceWriter:
    """Appends trace lines; gzip when the path ends in .gz. Flushes after every event."""

    def __init__(self, path, header):
        self.file = gzip.open(path, "wt", encoding="utf-8", compresslevel=1) if path.endswith(
            ".gz") else open(path, "w", encoding="utf-8")
        self._line(header)

    def _line(self, obj):
        # allow_nan=False: non-finite floats must already be the strings "NaN", "Infinity"...
        self.file.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
                                   allow_nan=False) + "\n")
        self.file.flush()

    def prompt(self, text):
        self._line({"event": "prompt", "text": text})

    def token(self, position, phase, token_id, piece, experts, weights=None, probs=None,
              logits=None, forward_s=None):
        line = {"event": "token", "position": int(position), "phase": phase,
                "id": int(token_id), "piece": piece}
        if forward_s is not None:
            line["forward_s"] = forward_s
        line["experts"] = [[int(e) for e in row] for row in experts]
        for key, rows in (("weights", weights), ("probs", probs), ("logits", logits)):
            if rows is not None:
                line[key] = [[json_float(v) for v in row] for row in rows]
        self._line(line)

    def close(self):
        self.file.close()


def json_float(value):
    """A float32 value as JSON: numpy prints the shortest decimal that reads back to the same
    float32, and Python keeps that decimal when it writes the float; non-finite values become
    the strings "NaN", "Infinity", "-Infinity"."""
    import numpy as np
    value = np.float32(value)
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(str(value))


def header(model, sampling=None, producer="Scripts/import_hf_trace.py"):
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": model,
        "sampling": sampling,
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "producer": producer,
    }


def model_description(config, moe_layers, name, fingerprint, total=0, per_expert=0,
                      element_bytes=0):
    """The header's model object from a Hugging Face config (an object or a dict)."""
    get = (lambda key, default=None: config.get(key, default)) if isinstance(config, dict) \
        else (lambda key, default=None: getattr(config, key, default))
    model_type = get("model_type", "unknown")
    experts = get("num_experts") or get("num_local_experts") or get("n_routed_experts")
    top_k = get("num_experts_per_tok") or get("moe_topk") or get("top_k")
    if not experts or not top_k:
        sys.exit("config has no expert count (num_experts / num_local_experts / "
                 "n_routed_experts) or no top-k (num_experts_per_tok)")
    shared = get("n_shared_experts") or (1 if get("shared_expert_intermediate_size") else 0)
    gating = "sigmoid" if get("scoring_func") == "sigmoid" else "softmax"
    # Mixtral always renormalises and has no key for it
    normalizes = bool(get("norm_topk_prob", model_type == "mixtral"))
    layers = get("num_hidden_layers")
    moe_count = len(moe_layers)
    active = total - moe_count * (experts - top_k) * per_expert if total else 0
    return {
        "name": name,
        "architecture": model_type,
        "fingerprint": fingerprint,
        "layerCount": int(layers),
        "moeLayers": [int(i) for i in moe_layers],
        "expertCount": int(experts),
        "expertsPerToken": int(top_k),
        "sharedExpertCount": int(shared),
        "gating": gating,
        "normalizesTopK": normalizes,
        "weightsScale": float(get("routed_scaling_factor", 1.0) or 1.0),
        "totalParameters": int(total),
        "activeParameters": int(active),
        "parametersPerExpert": int(per_expert),
        "bytesPerExpert": int(per_expert * element_bytes),
        "alwaysActiveBytes": int((total - moe_count * experts * per_expert) * element_bytes),
    }


def config_fingerprint(config_dict, prefix):
    digest = hashlib.sha256(json.dumps(config_dict, sort_keys=True).encode()).hexdigest()
    return f"{prefix}-{digest[:16]}"


# ---------------------------------------------------------------- hf


def moe_block_indices(model):
    """Indices of the decoder blocks whose MLP has routed experts, in order."""
    layers = None
    for candidate in ("model.layers", "model.decoder.layers", "transformer.h"):
        obj = model
        try:
            for part in candidate.split("."):
                obj = getattr(obj, part)
            layers = obj
            break
        except AttributeError:
            continue
    if layers is None:
        sys.exit("cannot find the decoder layers of this model")
    found = []
    for index, block in enumerate(layers):
        if any(hasattr(module, "experts") for module in block.modules()):
            found.append(index)
    return found


def routing_from_logits(logits, top_k, gating, normalizes, scale):
    """Mirror the router: probabilities, top-k ids (best first), applied weights.
    logits: [tokens, E] float32 tensor."""
    import torch
    logits = logits.float()
    probs = torch.sigmoid(logits) if gating == "sigmoid" else torch.softmax(logits, dim=-1)
    values, ids = torch.topk(probs, top_k, dim=-1)
    if normalizes:
        values = values / values.sum(dim=-1, keepdim=True)
    return probs, ids, values * scale


def piece_after(tokenizer, ids, index, held):
    """The text token `index` adds: the decoded prefix difference, holding back a trailing
    incomplete character (U+FFFD) until a later token completes it."""
    if tokenizer is None:
        return "", held
    before = tokenizer.decode(ids[:index - held], skip_special_tokens=False) if index - held else ""
    after = tokenizer.decode(ids[:index + 1], skip_special_tokens=False)
    if after.endswith("\ufffd"):
        return "", held + 1
    return after[len(before):] if after.startswith(before) else after, 0


def run_hf(args):
    import time

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(args.seed)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    model.eval()
    config = model.config
    tokenizer = None
    try:
        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or args.model)
    except Exception as error:  # a bare test model may have no tokenizer
        if args.prompt_ids is None:
            sys.exit(f"no tokenizer ({error}); pass --prompt-ids")
    prompt_ids = [int(t) for t in args.prompt_ids.split(",")] if args.prompt_ids else \
        tokenizer(args.prompt, add_special_tokens=True)["input_ids"]

    moe_layers = moe_block_indices(model)
    total = sum(p.numel() for p in model.parameters())
    experts_total = sum(p.numel() for name, p in model.named_parameters() if ".experts." in name)
    description = model_description(
        config, moe_layers, name=str(args.name or args.model),
        fingerprint=args.fingerprint or config_fingerprint(config.to_dict(), "hf"),
        total=total,
        per_expert=experts_total // max(1, len(moe_layers) * (getattr(config, "num_experts", 0)
                                                           or getattr(config, "num_local_experts", 0)
                                                           or getattr(config, "n_routed_experts", 1))),
        element_bytes=4)
    k, gating = description["expertsPerToken"], description["gating"]
    normalizes, scale = description["normalizesTopK"], description["weightsScale"]
    sampling = {"temperature": args.temperature, "seed": args.seed,
                "maxTokens": args.max_new_tokens}
    writer = TraceWriter(args.out, header(description, sampling))
    writer.prompt(args.prompt if args.prompt is not None else "")

    ids = list(prompt_ids)
    held = 0
    past = None
    step_input = torch.tensor([prompt_ids])
    generated = 0
    position = 0
    while True:
        # forward: the whole prompt once (prefill), then one token at a time
        started = time.perf_counter()
        with torch.no_grad():
            out = model(input_ids=step_input, past_key_values=past, use_cache=True,
                        output_router_logits=True)
        seconds = (time.perf_counter() - started) / step_input.shape[1]
        past = out.past_key_values
        router = out.router_logits  # one [tokens, E] per MoE layer
        if len(router) != len(moe_layers):
            sys.exit(f"model returned {len(router)} router outputs for {len(moe_layers)} MoE blocks")
        per_layer = [routing_from_logits(r, k, gating, normalizes, scale) for r in router]

        # one token event per input token of this forward pass
        count = step_input.shape[1]
        for t in range(count):
            piece, held = piece_after(tokenizer, ids, position, held)
            writer.token(
                position=position, phase="prefill" if position < len(prompt_ids) else "decode",
                token_id=ids[position], piece=piece, forward_s=seconds,
                experts=[p[1][t].tolist() for p in per_layer],
                weights=[p[2][t].tolist() for p in per_layer],
                probs=[p[0][t].tolist() for p in per_layer],
                logits=[r[t].float().tolist() for r in router] if args.logits else None)
            position += 1
        if generated >= args.max_new_tokens:
            break

        # next token: greedy, or sampled at the given temperature
        last = out.logits[0, -1].float()
        if args.temperature > 0:
            next_id = int(torch.multinomial(torch.softmax(last / args.temperature, -1), 1))
        else:
            next_id = int(torch.argmax(last))
        ids.append(next_id)
        generated += 1
        step_input = torch.tensor([[next_id]])
        if tokenizer is not None and next_id == tokenizer.eos_token_id:
            args.max_new_tokens = generated  # record the end token, then stop
    writer.close()
    print(f"wrote {args.out}: {position} tokens ({len(prompt_ids)} prompt), "
          f"{len(moe_layers)} MoE layers x {description['expertCount']} experts, top-{k}",
          file=sys.stderr)


# ---------------------------------------------------------------- ids (vLLM, SGLang per request)


def load_config(path):
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def moe_layers_from_config(config, captured_layers):
    """Blocks with routers: every block unless the config names dense ones."""
    layers = config.get("num_hidden_layers", captured_layers)
    dense = set(config.get("mlp_only_layers", []) or [])
    first_dense = config.get("first_k_dense_replace", 0) or 0
    step = config.get("decoder_sparse_step", 1) or 1
    return [i for i in range(layers)
            if i not in dense and i >= first_dense and (i + 1) % step == 0]


def run_ids(args):
    import numpy as np

    routed = np.load(args.ids)
    if routed.ndim != 3:
        sys.exit(f"{args.ids}: expected a [tokens, layers, k] array, found shape {routed.shape}")
    config = load_config(args.config)
    moe_layers = moe_layers_from_config(config, routed.shape[1])
    if routed.shape[1] != len(moe_layers):
        # engines that keep a row per block: keep the MoE blocks' rows only
        if routed.shape[1] == config.get("num_hidden_layers"):
            routed = routed[:, moe_layers, :]
        else:
            sys.exit(f"{args.ids}: {routed.shape[1]} layers, config has {len(moe_layers)} MoE "
                     f"blocks of {config.get('num_hidden_layers')}")
    description = model_description(
        config, moe_layers, name=args.name or config.get("_name_or_path", "imported"),
        fingerprint=args.fingerprint or config_fingerprint(config, "config"))
    if routed.shape[2] != description["expertsPerToken"]:
        sys.exit(f"{args.ids}: k = {routed.shape[2]}, config says "
                 f"{description['expertsPerToken']}")
    token_ids = [int(t) for t in args.token_ids.split(",")] if args.token_ids else None
    if token_ids is not None and len(token_ids) != routed.shape[0]:
        sys.exit(f"--token-ids has {len(token_ids)} ids for {routed.shape[0]} tokens")
    writer = TraceWriter(args.out, header(description))
    writer.prompt(args.prompt or "")
    for t in range(routed.shape[0]):
        writer.token(position=args.first_position + t,
                     phase="prefill" if t < args.prompt_tokens else "decode",
                     token_id=token_ids[t] if token_ids else 0, piece="",
                     experts=routed[t].tolist())
    writer.close()
    print(f"wrote {args.out}: {routed.shape[0]} tokens", file=sys.stderr)


# ---------------------------------------------------------------- sglang per_token dump


def run_sglang(args):
    import torch

    dump = torch.load(args.dump, map_location="cpu", weights_only=False)
    records = dump["records"] if isinstance(dump, dict) else dump
    physical_to_logical = dump.get("last_physical_to_logical_map") if isinstance(dump, dict) \
        else None
    config = load_config(args.config)
    first = records[0]["topk_ids_of_layer"]
    moe_layers = moe_layers_from_config(config, first.shape[0])
    description = model_description(
        config, moe_layers, name=args.name or config.get("_name_or_path", "imported"),
        fingerprint=args.fingerprint or config_fingerprint(config, "config"))
    writer = TraceWriter(args.out, header(description))
    tokens = 0
    for record in records:
        topk = record["topk_ids_of_layer"]  # [layers, tokens, k]
        if topk.shape[0] != len(moe_layers):
            topk = topk[moe_layers]
        if physical_to_logical is not None:
            mapping = torch.as_tensor(physical_to_logical)
            topk = torch.stack([mapping[layer][topk[i].long()]
                                for i, layer in enumerate(moe_layers)])
        per_token = topk.permute(1, 0, 2).tolist()  # [tokens, layers, k]
        mode = str(record.get("forward_mode", "")).lower()
        phase = "decode" if "decode" in mode else "prefill"
        if phase == "prefill":
            writer.prompt("")
        input_ids = record.get("input_ids")
        positions = record.get("positions")
        for t, experts in enumerate(per_token):
            if any(e < 0 for row in experts for e in row):
                continue  # padding slots of a captured graph
            writer.token(position=int(positions[t]) if positions is not None else t,
                         phase=phase,
                         token_id=int(input_ids[t]) if input_ids is not None else 0,
                         piece="", experts=experts)
            tokens += 1
    writer.close()
    print(f"wrote {args.out}: {tokens} tokens from {len(records)} records", file=sys.stderr)


# ---------------------------------------------------------------- command line


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    hf = commands.add_parser("hf", help="run a Hugging Face MoE model and record its routing")
    hf.add_argument("--model", required=True, help="local directory or hub id")
    hf.add_argument("--tokenizer", help="tokenizer directory (default: the model's)")
    hf.add_argument("--prompt", default="", help="prompt text")
    hf.add_argument("--prompt-ids", help="comma-separated prompt token ids (no tokenizer)")
    hf.add_argument("--max-new-tokens", type=int, default=32)
    hf.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    hf.add_argument("--seed", type=int, default=0)
    hf.add_argument("--logits", action="store_true", help="also record the router logits")
    hf.add_argument("--name", help="model name in the header")
    hf.add_argument("--fingerprint", help="fingerprint in the header (default: config hash)")
    hf.add_argument("--out", required=True)

    ids = commands.add_parser("ids", help="convert a [tokens, layers, k] numpy array")
    ids.add_argument("--ids", required=True, help=".npy file")
    ids.add_argument("--config", required=True, help="the model's config.json")
    ids.add_argument("--token-ids", help="comma-separated token ids, one per row")
    ids.add_argument("--prompt-tokens", type=int, default=0, help="leading rows that are prefill")
    ids.add_argument("--first-position", type=int, default=0)
    ids.add_argument("--prompt", help="prompt text for the prompt event")
    ids.add_argument("--name")
    ids.add_argument("--fingerprint")
    ids.add_argument("--out", required=True)

    sglang = commands.add_parser("sglang", help="convert an SGLang per_token dump (.pt)")
    sglang.add_argument("--dump", required=True)
    sglang.add_argument("--config", required=True, help="the model's config.json")
    sglang.add_argument("--name")
    sglang.add_argument("--fingerprint")
    sglang.add_argument("--out", required=True)

    args = parser.parse_args()
    {"hf": run_hf, "ids": run_ids, "sglang": run_sglang}[args.command](args)


if __name__ == "__main__":
    main()
