#!/usr/bin/env python3
"""llama.cpp on the same files as Scripts/bench.sh, on the same machine, for a like-for-like
comparison (needs llama-cpp-python). Prefill of PROMPT random tokens, then TOKENS greedy decode
steps, in ROUNDS rounds (prefill: the best round; decode: all rounds together, as moetop bench
reports them); prints one JSON object per model.

usage: Scripts/bench_llamacpp.py MODEL... [--threads 2] [--prompt 128] [--tokens 64] [--rounds 2]
"""
import argparse
import json
import random
import time

import numpy as np
from llama_cpp import Llama


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for path in args.models:
        llm = Llama(model_path=path, n_threads=args.threads, n_threads_batch=args.threads,
                    n_ctx=args.prompt + args.tokens + 8, n_batch=args.prompt, verbose=False)
        rng = random.Random(7)
        prompt = [rng.randrange(llm.n_vocab()) for _ in range(args.prompt)]
        best_prefill = 0.0
        decode_seconds = 0.0
        for _ in range(args.rounds):
            llm.reset()
            start = time.perf_counter()
            llm.eval(prompt)
            best_prefill = max(best_prefill, args.prompt / (time.perf_counter() - start))
            start = time.perf_counter()
            for _ in range(args.tokens):
                # the last token's logits (llama-cpp-python keeps `scores` only with logits_all)
                logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
                token = int(np.argmax(logits))
                llm.eval([token])
            decode_seconds += time.perf_counter() - start
        print(json.dumps({"engine": "llama.cpp", "model": path, "threads": args.threads,
                          "prefill_tokens_per_second": best_prefill,
                          "decode_tokens_per_second": args.rounds * args.tokens / decode_seconds}))


if __name__ == "__main__":
    main()
