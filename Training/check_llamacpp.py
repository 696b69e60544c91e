"""Optional cross-check with llama.cpp (through llama-cpp-python) on the exported GGUF.

Loads the file with llama.cpp, compares its tokenisation of the reference prompts with the
HF tokenizer's ids, and its 24-token greedy continuation with transformers' (from the
reference fixture). Prints one line per prompt and exits 1 on any disagreement.

Usage: python3 Training/check_llamacpp.py [--gguf PATH] [--fixture PATH]
"""

import argparse
import json
import sys

from common import GGUF_PATH
from reference import DEFAULT_OUT


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=GGUF_PATH)
    parser.add_argument("--fixture", default=DEFAULT_OUT)
    args = parser.parse_args()
    import llama_cpp

    llm = llama_cpp.Llama(model_path=args.gguf, n_ctx=512, n_threads=1, n_batch=512,
                          logits_all=False, verbose=False)
    with open(args.fixture) as handle:
        fixture = json.load(handle)
    failures = 0
    for case in fixture["cases"]:
        ids = llm.tokenize(case["prompt"].encode(), add_bos=False, special=False)
        same_tokens = ids == case["prompt_ids"]
        llm.reset()
        out = []
        for token in llm.generate(case["prompt_ids"], top_k=1, top_p=1.0, temp=0.0, repeat_penalty=1.0):
            out.append(token)
            if len(out) == len(case["greedy_ids"]):
                break
        agree = 0
        for a, b in zip(out, case["greedy_ids"]):
            if a != b:
                break
            agree += 1
        print(f"{case['domain']:10s} tokens {'same' if same_tokens else 'DIFFER'}; greedy agrees on "
              f"{agree}/{len(case['greedy_ids'])}: {llm.detokenize(out).decode(errors='replace')!r}")
        failures += (not same_tokens) + (agree != len(case["greedy_ids"]))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
