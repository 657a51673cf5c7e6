#!/usr/bin/env bash
# Runs the particle demo (installs the toolchain and builds the library first).
# In a terminal: runs until Ctrl-C. Without one (CI): a few seconds, then a summary.
# Usage: bash scripts/demo.sh [--seconds N]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec deno run -A "$ROOT/examples/particles/main.ts" "$@"
