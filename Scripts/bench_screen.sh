#!/usr/bin/env bash
# Screen benchmarks (figures, not pass/fail):
#   1. time to build one frame for 48 MoE layers x 128 experts at 200x60 (target <= 2 ms),
#      per heatmap mode, with 2000 tokens of synthetic routing;
#   2. CPU the screen uses while idle (target <= 2 % of a core): a paused replay in a detached
#      tmux pane for 10 s, from the process's utime+stime in /proc.
# Usage: bash Scripts/bench_screen.sh [path/to/moetop]   (default: .build/release/moetop)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-.build/release/moetop}"
[ -x "$bin" ] || { echo "no binary at $bin (swift build -c release --product moetop)" >&2; exit 1; }

echo "== frame build time"
"$bin" replay --synthetic 48x128x8x2000 --bench-frame 200x60x300
"$bin" replay --synthetic 48x128x8x2000 --bench-frame 80x24x300

echo "== idle CPU (10 s of a paused replay at 200x60)"
command -v tmux >/dev/null || { echo "tmux missing: skipped" >&2; exit 0; }
socket="moetop-bench-$$"
tmux -L "$socket" new-session -d -s bench -x 200 -y 60 \
    "exec env LANG=C.UTF-8 TERM=tmux-256color $bin replay --synthetic 48x128x8x2000"
trap 'tmux -L "$socket" kill-server 2>/dev/null || true' EXIT
sleep 3
# the pane's process is moetop itself (exec): pgrep would also match the tmux server
pid=$(tmux -L "$socket" display -p -t bench '#{pane_pid}')
tmux -L "$socket" send-keys -t bench End
sleep 1
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
start=$(ticks)
sleep 10
end=$(ticks)
awk -v a="$start" -v b="$end" -v hz="$hz" \
    'BEGIN { printf "idle CPU: %.2f %% of one core (%d ticks over 10 s)\n", (b - a) / hz / 10 * 100, b - a }'
