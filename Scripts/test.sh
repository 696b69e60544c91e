#!/usr/bin/env bash
# The test command of the README: builds the release binary (the end-to-end tests drive it,
# under tmux) and runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product moetop
export MOETOP_BIN="$PWD/.build/release/moetop"
swift test "$@"
