#!/usr/bin/env bash
# Builds the npm package `shmkit` into dist/npm/ and packs it as dist/shmkit-<version>.tgz:
# JavaScript plus .d.ts compiled by tsc (Deno's npm: support does not strip types
# inside node_modules), the packaged libraries and manifest from native/, README, LICENSE.
# Usage: bash scripts/build-npm.sh [OUT]   (default OUT=dist; prints the tarball's path last)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
BASE="$(mkdir -p "${1:-$ROOT/dist}" && cd "${1:-$ROOT/dist}" && pwd)"
OUT="$BASE/npm"
VERSION="$(node -p 'require("./deno.json").version')"
[ "$VERSION" = "$(node -p 'require("./package.json").version')" ] || { echo "build-npm: deno.json and package.json versions differ" >&2; exit 1; }

rm -rf "$OUT" "$BASE/shmkit-"*.tgz
node_modules/.bin/tsc -p tsconfig.npm.json --outDir "$OUT"

# The npm package ships the library files, so it needs no base64 copies: replace the
# module that imports them with one that has none (same exports, same .d.ts).
rm -f "$OUT"/native/embed-*
cat > "$OUT/ffi/embedded.js" <<'EOF'
// npm build (scripts/build-npm.sh): the library files are in native/, nothing is embedded.
export async function embeddedBase64(_target) {
    return undefined;
}
EOF
node -e '
  const m = require("./native/manifest.json");
  for (const e of Object.values(m.libraries)) require("fs").copyFileSync("native/" + e.file, process.argv[1] + "/native/" + e.file);
  require("fs").copyFileSync("native/manifest.json", process.argv[1] + "/native/manifest.json");
' "$OUT"

# Bun's entry: the same module, plus each library imported as a file, which makes
# `bun build --compile` embed it in the executable ("bun" export condition: Deno and
# Node never see this import attribute).
node -e '
  const m = require("./native/manifest.json");
  const t = Object.keys(m.libraries);
  const lines = ["// npm build (scripts/build-npm.sh): the entry Bun resolves (export condition \"bun\").",
    "// Importing the libraries as files lets `bun build --compile` embed them in an executable.",
    "import { useEmbeddedLibraries } from \"./ffi/mod.js\";"];
  t.forEach((k, i) => lines.push(`import lib${i} from "./native/${m.libraries[k].file}" with { type: "file" };`));
  lines.push("useEmbeddedLibraries({ " + t.map((k, i) => `"${k}": lib${i}`).join(", ") + " });", "export * from \"./mod.js\";", "");
  require("fs").writeFileSync(process.argv[1] + "/bun.js", lines.join("\n"));
  require("fs").writeFileSync(process.argv[1] + "/bun.d.ts", "export * from \"./mod.js\";\n");
' "$OUT"

node -e '
  const root = require("./package.json");
  const pkg = {
    name: root.name,
    version: root.version,
    description: root.description,
    license: require("./deno.json").license,
    type: "module",
    exports: {
      ".": { types: "./mod.d.ts", bun: "./bun.js", import: "./mod.js", default: "./mod.js" },
      "./cli": { types: "./cli.d.ts", import: "./cli.js", default: "./cli.js" },
      "./package.json": "./package.json",
    },
    bin: { shmkit: "./cli.js" },
    types: "./mod.d.ts",
    files: ["mod.js", "mod.d.ts", "cli.js", "cli.d.ts", "bun.js", "bun.d.ts", "src/", "ffi/", "native/"],
    os: ["linux"],
    cpu: ["x64", "arm64"],
    keywords: ["shared-memory", "lock-free", "ipc", "deno", "bun", "ffi"],
  };
  require("fs").writeFileSync(process.argv[1] + "/package.json", JSON.stringify(pkg, null, 2) + "\n");
' "$OUT"
cp README.md LICENSE "$OUT/"

(cd "$BASE" && npm pack --silent ./npm >/dev/null)
echo "$BASE/shmkit-$VERSION.tgz"
