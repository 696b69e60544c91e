#!/usr/bin/env bash
# Tokenizer encoding speed (MB/s) on 1 MB of mixed text (prose, code, numbers, CJK, Arabic,
# emoji), for each fixture vocabulary and for the embedded model when it is installed.
# A benchmark, not a test: it prints figures. Usage: Scripts/bench_tokenizer.sh [MODEL.gguf ...]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product moetop >/dev/null
bin=.build/release/moetop
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
    models=(Tests/MoETokenizerTests/Fixtures/tokenizer/*.gguf)
fi
for model in "${models[@]}"; do
    printf '%-60s ' "$model"
    "$bin" tokenize -m "$model" --bench
done
