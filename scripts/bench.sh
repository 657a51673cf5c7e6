#!/usr/bin/env bash
# Runs every benchmark (bench/*.bench.ts, mitata) under Deno and under Bun.
# Usage: bash scripts/bench.sh [bench files...]
#        bash scripts/bench.sh --vs-c [--quick] [--rounds N] [--only id,id] [--out file]
#          shmkit against the C baselines of bench/c/ (bench/vs_c.ts): writes
#          bench/results/vs-c.json and prints the table (docs/BENCHMARKS.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
if [ "${1:-}" = "--vs-c" ]; then
  shift
  exec deno run -A bench/vs_c.ts "$@"
fi
files=("$@")
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(ls bench/*.bench.ts)
for f in "${files[@]}"; do
  echo "==== $f (deno)"; deno run -A "$f"
  echo "==== $f (bun)"; bun run "$f"
done
