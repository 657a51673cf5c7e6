#!/usr/bin/env bash
# Installs the pinned toolchain into .tools/ (only what is missing) and builds the
# native library. Sourced by the other scripts, so it exports PATH and the runtime paths.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
DENO_VERSION=2.9.6
BUN_VERSION=1.4.5
ZIG_VERSION=0.14.1

mkdir -p "$TOOLS"
if [ ! -x "$TOOLS/npm/node_modules/.bin/deno" ] || [ ! -x "$TOOLS/npm/node_modules/.bin/bun" ] \
   || [ "$(cat "$TOOLS/npm/.versions" 2>/dev/null)" != "$DENO_VERSION $BUN_VERSION" ]; then
  echo "setup: installing deno@$DENO_VERSION and bun@$BUN_VERSION from npm" >&2
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" "deno@$DENO_VERSION" "bun@$BUN_VERSION" >&2
  echo "$DENO_VERSION $BUN_VERSION" > "$TOOLS/npm/.versions"
fi
if [ ! -x "$TOOLS/zig/ziglang/zig" ] || [ "$("$TOOLS/zig/ziglang/zig" version)" != "$ZIG_VERSION" ]; then
  echo "setup: installing zig $ZIG_VERSION from PyPI (ziglang)" >&2
  python3 -m pip install --quiet --disable-pip-version-check --upgrade --target "$TOOLS/zig" "ziglang==$ZIG_VERSION" >&2
fi
# npm dev dependencies (package.json, pinned in package-lock.json): benchmarks, property
# tests, and tsc + @types/bun for the npm package build and its type checks.
for dep in mitata fast-check @types/node typescript @types/bun; do
  if [ ! -f "$ROOT/node_modules/$dep/package.json" ]; then
    echo "setup: installing npm dev dependencies (mitata, fast-check, typescript, @types/bun)" >&2
    (cd "$ROOT" && npm install --silent --no-audit --no-fund) >&2
    break
  fi
done
export PATH="$TOOLS/npm/node_modules/.bin:$TOOLS/zig/ziglang:$PATH"
export SHMKIT_DENO="$TOOLS/npm/node_modules/.bin/deno"
export SHMKIT_BUN="$TOOLS/npm/node_modules/.bin/bun"
export DENO_NO_UPDATE_CHECK=1
(cd "$ROOT" && zig build) >&2
