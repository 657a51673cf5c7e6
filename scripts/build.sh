#!/usr/bin/env bash
# Builds the native library (installing the toolchain first if needed): zig-out/lib/libshmkit.so
# for this machine, and native/ (the packaged libraries, manifest.json, embed modules).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
echo "built $ROOT/zig-out/lib/libshmkit.so and $ROOT/native/"
