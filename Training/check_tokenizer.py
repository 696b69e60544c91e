"""Check that the tokenizer stored in the GGUF reproduces the HF tokenizer.

An independent byte-level BPE that reads only the GGUF metadata (tokens, merges, the qwen2
pre-tokenizer pattern) and follows llama.cpp's procedure: split with the pattern, map bytes
to the GPT-2 byte alphabet, merge the lowest-ranked adjacent pair until none is left.
Compares with `tokenizers` on the first characters of every domain's held-out text.

Usage: python3 Training/check_tokenizer.py [--gguf PATH] [--chars 4000]
"""

import argparse
import sys

import gguf
import regex

from common import DOMAINS, CORPUS_DIR, EOT, GGUF_PATH, QWEN2_PATTERN, TOKENIZER_PATH


def byte_alphabet():
    """GPT-2's byte -> printable character map."""
    kept = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    mapping, extra = {}, 0
    for b in range(256):
        if b in kept:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


def read_vocab(path):
    reader = gguf.GGUFReader(path)

    def strings(key):
        field = reader.fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    def string(key):
        field = reader.fields[key]
        return bytes(field.parts[field.data[0]]).decode("utf-8")

    assert string("tokenizer.ggml.model") == "gpt2" and string("tokenizer.ggml.pre") == "qwen2"
    tokens = strings("tokenizer.ggml.tokens")
    merges = strings("tokenizer.ggml.merges")
    ranks = {tuple(m.split(" ", 1)): r for r, m in enumerate(merges)}
    return {t: i for i, t in enumerate(tokens)}, ranks


def encode(text, vocab, ranks, alphabet, pattern):
    ids = []
    for piece in pattern.findall(text):
        symbols = [alphabet[b] for b in piece.encode("utf-8")]
        while len(symbols) > 1:
            best = min(range(len(symbols) - 1),
                       key=lambda i: ranks.get((symbols[i], symbols[i + 1]), float("inf")))
            if (symbols[best], symbols[best + 1]) not in ranks:
                break
            symbols[best : best + 2] = [symbols[best] + symbols[best + 1]]
        ids += [vocab[s] for s in symbols]
    return ids


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=GGUF_PATH)
    parser.add_argument("--chars", type=int, default=4000)
    args = parser.parse_args()
    from tokenizers import Tokenizer

    hf = Tokenizer.from_file(TOKENIZER_PATH)
    vocab, ranks = read_vocab(args.gguf)
    alphabet, pattern = byte_alphabet(), regex.compile(QWEN2_PATTERN)
    bad = 0
    for domain in DOMAINS:
        with open(f"{CORPUS_DIR}/{domain}.valid.txt", encoding="utf-8") as handle:
            text = handle.read().split(EOT)[0][: args.chars]
        ours = encode(text, vocab, ranks, alphabet, pattern)
        theirs = hf.encode(text, add_special_tokens=False).ids
        same = ours == theirs
        bad += not same
        print(f"{domain:10s} {len(theirs):5d} tokens: {'identical' if same else 'DIFFERENT'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
