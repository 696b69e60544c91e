#!/usr/bin/env bash
# The benchmark anchor of issue 4: a random-weight qwen3moe (vocab 32000, hidden 1024, 16 layers,
# 16 heads of 64, 4 KV heads, 64 experts of 256, top-8: 914 M parameters, 208 M active),
# synthesised as Q8_0, Q4_K_M and F16, each run through `moetop bench` with 2 threads, and
# compared with llama.cpp's figures on the same model shape (2 threads, 2-core machine).
#
# usage: Scripts/bench.sh [TYPE...]        (default: Q8_0 Q4_K_M F16)
# environment: THREADS (2), PROMPT (128), TOKENS (64), BENCH_DIR (/tmp/moetop-anchor),
#              FRESH=1 to synthesise the models again,
#              PORTABLE=1 to measure the portable build (MOETOP_PORTABLE=1, in .build/portable:
#              SSE2 on x86-64) instead of the default one, which targets this processor.
set -euo pipefail
cd "$(dirname "$0")/.."

threads=${THREADS:-2}
prompt=${PROMPT:-128}
tokens=${TOKENS:-64}
dir=${BENCH_DIR:-/tmp/moetop-anchor}
types=("$@")
[ ${#types[@]} -gt 0 ] || types=(Q8_0 Q4_K_M F16)

if [ "${PORTABLE:-0}" = 1 ]; then
    MOETOP_PORTABLE=1 swift build -c release --product moetop --scratch-path .build/portable >&2
    bin=.build/portable/release/moetop
else
    swift build -c release --product moetop >&2
    bin=.build/release/moetop
fi
mkdir -p "$dir"

# llama.cpp, 2 threads, same shape: decode and prefill tokens/s (issue 4)
declare -A llama_decode=([Q8_0]=53.5 [Q4_K_M]=75.6 [F16]=36.0)
declare -A llama_prefill=([Q8_0]=212 [Q4_K_M]=295 [F16]=175)

shape=(--arch qwen3moe --vocab 32000 --hidden 1024 --layers 16 --heads 16 --kv-heads 4
    --head-dim 64 --experts 64 --top-k 8 --expert-ff 256 --seed 1)

results=()
for type in "${types[@]}"; do
    model="$dir/anchor-$type.gguf"
    if [ ! -f "$model" ] || [ "${FRESH:-0}" = 1 ]; then
        echo "synthesising $model" >&2
        "$bin" synth "${shape[@]}" --type "$type" --out "$model" >&2
    fi
    echo "benchmarking $model ($threads threads, -p $prompt -n $tokens)" >&2
    results+=("$type $("$bin" bench "$model" -p "$prompt" -n "$tokens" -t "$threads" --json)")
done

# table: moetop against llama.cpp
printf '%-7s %14s %14s %8s %14s %14s %8s %9s\n' type "decode tok/s" "llama.cpp" "ratio" \
    "prefill tok/s" "llama.cpp" "ratio" "capture"
for line in "${results[@]}"; do
    type=${line%% *}
    json=${line#* }
    field() { sed -E "s/.*\"$1\":([-0-9.e+]+).*/\\1/" <<<"$json"; }
    awk -v type="$type" -v decode="$(field decode_tokens_per_second)" \
        -v prefill="$(field prefill_tokens_per_second)" \
        -v capture="$(field capture_overhead_percent)" \
        -v decode_ref="${llama_decode[$type]:-0}" -v prefill_ref="${llama_prefill[$type]:-0}" '
        function ratio(v, r) { return r > 0 ? sprintf("%7.0f%%", 100 * v / r) : "       -" }
        BEGIN {
            printf "%-7s %14.1f %14.1f %8s %14.1f %14.1f %8s %+8.1f%%\n", type, decode, decode_ref,
                ratio(decode, decode_ref), prefill, prefill_ref, ratio(prefill, prefill_ref), capture
        }'
done
echo "(decode processor time per token and raw figures: run moetop bench MODEL --json)" >&2
