#!/usr/bin/env bash
# Runs every benchmark (bench/*.bench.ts, mitata) under Deno and under Bun.
# Usage: bash scripts/bench.sh [bench files...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
files=("$@")
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(ls bench/*.bench.ts)
for f in "${files[@]}"; do
  echo "==== $f (deno)"; deno run -A "$f"
  echo "==== $f (bun)"; bun run "$f"
done
