#!/usr/bin/env bash
# Runs every test under Deno and then under Bun, and prints one line
# "N passed, N failed" summing both. Installs the toolchain and builds first.
# Usage: bash scripts/test.sh [test files...]   (default: all of tests/)
#
# Each test file runs in a runner process of its own, under a time limit
# (SHMKIT_FILE_TIMEOUT seconds, default 900): a runtime that cannot exit (a Deno
# Worker that keeps running after terminate(), see docs/WAITING.md) then fails that
# file instead of hanging the whole run, and nothing one file leaves behind can
# disturb the next.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" || { echo "0 passed, 1 failed"; exit 1; }
set +e # setup.sh runs with -e; here a failing runner must not stop the other or the summary
cd "$ROOT"
files=("$@")
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(ls tests/*.test.ts)
limit="${SHMKIT_FILE_TIMEOUT:-900}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
strip() { sed -E 's/\x1b\[[0-9;]*m//g' "$1"; }

# run RUNTIME FILE: runs one file, prints its output, and sets `pass` and `fail`.
run() {
  local rt="$1" f="$2" rc
  case "$f" in /*|./*) ;; *) f="./$f";; esac
  if [ "$rt" = deno ]; then
    timeout --kill-after=10 "$limit" deno test -A --no-check=remote "$f" > "$log" 2>&1; rc=$?
    pass=$(strip "$log" | grep -oE '\| [0-9]+ passed' | tail -1 | grep -oE '[0-9]+')
    fail=$(strip "$log" | grep -oE '\| [0-9]+ failed' | tail -1 | grep -oE '[0-9]+')
  else
    timeout --kill-after=10 "$limit" bun test --timeout 120000 "$f" > "$log" 2>&1; rc=$?
    pass=$(strip "$log" | grep -E '^ *[0-9]+ pass$' | tail -1 | grep -oE '[0-9]+')
    fail=$(strip "$log" | grep -E '^ *[0-9]+ fail$' | tail -1 | grep -oE '[0-9]+')
  fi
  cat "$log"
  pass=${pass:-0}; fail=${fail:-0}
  # A runner that timed out, crashed, or failed without saying so counts as one failure.
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
    fail=1
    [ "$rc" -ge 124 ] && echo "!! $rt: $f did not finish within ${limit} s (exit $rc)"
  fi
}

declare -A total_pass=([deno]=0 [bun]=0) total_fail=([deno]=0 [bun]=0)
for rt in deno bun; do
  echo "== $rt test (${#files[@]} files)"
  for f in "${files[@]}"; do
    run "$rt" "$f"
    total_pass[$rt]=$(( total_pass[$rt] + pass ))
    total_fail[$rt]=$(( total_fail[$rt] + fail ))
    [ "$fail" -eq 0 ] || echo "!! $rt: $f: $fail failed"
  done
done
echo "deno: ${total_pass[deno]} passed, ${total_fail[deno]} failed; bun: ${total_pass[bun]} passed, ${total_fail[bun]} failed"
passed=$(( total_pass[deno] + total_pass[bun] )); failed=$(( total_fail[deno] + total_fail[bun] ))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
