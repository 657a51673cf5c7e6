#!/usr/bin/env bash
# Runs every test under Deno and then under Bun, and prints one line
# "N passed, N failed" summing both. Installs the toolchain and builds first.
# Usage: bash scripts/test.sh [test files...]   (default: all of tests/)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" || { echo "0 passed, 1 failed"; exit 1; }
set +e # setup.sh runs with -e; here a failing runner must not stop the other or the summary
cd "$ROOT"
files=("$@")
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(ls tests/*.test.ts)
log_deno="$(mktemp)"; log_bun="$(mktemp)"
trap 'rm -f "$log_deno" "$log_bun"' EXIT

echo "== deno test (${#files[@]} files)"
deno test -A --no-check=remote "${files[@]}" 2>&1 | tee "$log_deno"
deno_rc=${PIPESTATUS[0]}
echo "== bun test (${#files[@]} files)"
bun_files=(); for f in "${files[@]}"; do case "$f" in /*|./*) bun_files+=("$f");; *) bun_files+=("./$f");; esac; done
bun test --timeout 120000 "${bun_files[@]}" 2>&1 | tee "$log_bun"
bun_rc=${PIPESTATUS[0]}

# deno: "ok | 12 passed | 0 failed (3s)"   bun: " 12 pass" / " 0 fail"
deno_pass=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log_deno" | grep -oE '\| [0-9]+ passed' | tail -1 | grep -oE '[0-9]+')
deno_fail=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log_deno" | grep -oE '\| [0-9]+ failed' | tail -1 | grep -oE '[0-9]+')
bun_pass=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log_bun" | grep -E '^ *[0-9]+ pass$' | tail -1 | grep -oE '[0-9]+')
bun_fail=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log_bun" | grep -E '^ *[0-9]+ fail$' | tail -1 | grep -oE '[0-9]+')
# A runner that crashed before its summary counts as one failure.
[ -n "$deno_pass" ] || { deno_pass=0; deno_fail=$(( ${deno_fail:-0} > 0 ? deno_fail : 1 )); }
[ -n "$bun_pass" ] || { bun_pass=0; bun_fail=$(( ${bun_fail:-0} > 0 ? bun_fail : 1 )); }
deno_fail=${deno_fail:-0}; bun_fail=${bun_fail:-0}
if [ "$deno_rc" -ne 0 ] && [ "$deno_fail" -eq 0 ]; then deno_fail=1; fi
if [ "$bun_rc" -ne 0 ] && [ "$bun_fail" -eq 0 ]; then bun_fail=1; fi
echo "deno: $deno_pass passed, $deno_fail failed; bun: $bun_pass passed, $bun_fail failed"
passed=$((deno_pass + bun_pass)); failed=$((deno_fail + bun_fail))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
