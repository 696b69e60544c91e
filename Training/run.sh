#!/usr/bin/env bash
# The whole moetop-tiny recipe, one command:
#
#   bash Training/run.sh            # about 90 minutes on a 2-core machine
#   MINUTES=5 bash Training/run.sh  # a quick end-to-end check
#
# Environment: MINUTES (training wall-clock budget, default 90), THREADS (torch threads,
# default 1: on a machine shared with other jobs two threads are several times slower),
# MOETOP_GGUF (output file, default /work/artifacts/moetop-tiny.gguf).
# Intermediate files go to Training/work/ (ignored by git); measurements to Training/results/.
set -euo pipefail
cd "$(dirname "$0")"

MINUTES="${MINUTES:-75}"
THREADS="${THREADS:-1}"

# Step 0: the Debian packages whose text the corpus uses, and the Python packages.
need=()
for pkg in python3.11-doc manpages-de manpages-fr manpages-es libc6-dev libpython3.11-stdlib man-db groff-base bsdextrautils; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
python3 -c "import torch, transformers, tokenizers, gguf, numpy, regex, matplotlib" 2>/dev/null ||
  python3 -m pip install torch transformers tokenizers gguf numpy regex matplotlib

start=$(date +%s)
step() { echo "== $(date +%T) $*"; }

step "corpus";    python3 corpus.py --budget-mb 4
step "tokenizer"; python3 tokenizer.py --vocab 4096
step "train";     python3 train.py --minutes "$MINUTES" --steps 6000 --threads "$THREADS"
step "export";    python3 export_gguf.py
step "check";     python3 check_tokenizer.py
step "reference"; python3 reference.py
step "analyze";   python3 analyze.py
step "done in $(( ($(date +%s) - start) / 60 )) min"
