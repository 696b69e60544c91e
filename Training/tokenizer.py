"""Train the byte-level BPE tokenizer and tokenise the corpus.

The pre-tokenizer is exactly Qwen2's (a Split on the Qwen2 pattern, isolated, then ByteLevel
without its own regex), so llama.cpp's `tokenizer.ggml.pre = "qwen2"` reproduces it.
Writes Training/work/tokenizer.json and Training/work/tokens/<domain>.<split>.npy (uint16).

Usage: python3 Training/tokenizer.py [--vocab 4096] [--sample-mb 1.5]
"""

import argparse
import os

os.environ.setdefault("RAYON_NUM_THREADS", "2")

import numpy as np
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

from common import CORPUS_DIR, DOMAINS, EOT, QWEN2_PATTERN, SPECIAL_TOKENS, TOKENIZER_PATH, TOKENS_DIR


def build_tokenizer():
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def documents(domain, split):
    with open(f"{CORPUS_DIR}/{domain}.{split}.txt", encoding="utf-8") as handle:
        return handle.read().split(EOT)


def training_sample(sample_chars):
    """An equal number of characters from each domain's training split."""
    for domain in DOMAINS:
        used = 0
        for doc in documents(domain, "train"):
            if used >= sample_chars:
                break
            used += len(doc)
            yield doc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--sample-mb", type=float, default=1.5)
    args = parser.parse_args()

    # Step 1: train BPE merges on a balanced sample; specials get the first ids.
    tokenizer = build_tokenizer()
    trainer = trainers.BpeTrainer(
        vocab_size=args.vocab,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(training_sample(int(args.sample_mb * 1e6)), trainer=trainer)
    tokenizer.save(TOKENIZER_PATH)
    eot = tokenizer.token_to_id(EOT)
    print(f"vocab {tokenizer.get_vocab_size()} (eot id {eot})", flush=True)

    # Step 2: tokenise every split; documents are joined by the end-of-text id.
    os.makedirs(TOKENS_DIR, exist_ok=True)
    for domain in DOMAINS:
        for split in ("train", "valid"):
            docs = documents(domain, split)
            ids = []
            for enc in tokenizer.encode_batch(docs, add_special_tokens=False):
                ids.extend(enc.ids)
                ids.append(eot)
            arr = np.array(ids, dtype=np.uint16)
            np.save(f"{TOKENS_DIR}/{domain}.{split}.npy", arr)
            n_bytes = sum(len(d.encode()) for d in docs)
            print(f"{domain:10s} {split:5s} {len(arr):>9,d} tokens  {n_bytes / len(arr):.2f} B/token",
                  flush=True)


if __name__ == "__main__":
    main()
