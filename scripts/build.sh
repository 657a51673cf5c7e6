#!/usr/bin/env bash
# Builds zig-out/lib/libshmkit.so (installing the toolchain first if needed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
echo "built $ROOT/zig-out/lib/libshmkit.so"
