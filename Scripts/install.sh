#!/usr/bin/env bash
# Installs moetop and its embedded model: the Debian packages it links against, a release
# build, the binary into $PREFIX/bin and the model into $PREFIX/share/moetop.
#   bash Scripts/install.sh            (PREFIX defaults to /usr/local)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${PREFIX:-/usr/local}"
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

echo "moetop install: Debian packages" >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libncursesw5-dev libopenblas-dev zlib1g-dev tmux >/dev/null

echo "moetop install: release build (a few minutes on 2 cores)" >&2
swift build -c release --product moetop

echo "moetop install: $prefix/bin/moetop, $prefix/share/moetop/" >&2
"${as_root[@]}" install -D -m 755 .build/release/moetop "$prefix/bin/moetop"
"${as_root[@]}" install -D -m 644 Sources/moetop/Resources/moetop-tiny.gguf \
    "$prefix/share/moetop/moetop-tiny.gguf"
"${as_root[@]}" mkdir -p "$prefix/share/moetop/Themes" "$prefix/share/moetop/SamplePrompts"
"${as_root[@]}" cp Themes/* "$prefix/share/moetop/Themes/" 2>/dev/null || true
"${as_root[@]}" cp SamplePrompts/*.jsonl "$prefix/share/moetop/SamplePrompts/" 2>/dev/null || true
echo "moetop install: done; run 'moetop' (or 'moetop --help')" >&2
