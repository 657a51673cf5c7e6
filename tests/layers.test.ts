/**
 * The layering rule of docs/ARCHITECTURE.md, checked from the code: every relative
 * import in src/ and ffi/ goes to its own layer or one below it, src/structures and
 * src/sync never import each other, nothing in src/ imports a runtime module, and
 * the architecture page names every folder.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "./harness.ts";

const root = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** Rank of each layer: a module may import its own layer or a lower rank. Equal ranks of different layers are siblings. */
const RANK: Record<string, number> = {
  "src/errors.ts": 0,
  "ffi": 1,
  "src/segment": 2,
  "src/wait": 3,
  "src/structures": 4,
  "src/sync": 4,
  "src/inspect": 5,
  "src/cli": 6,
};

function layerOf(file: string): string | undefined {
  const rel = relative(root, file);
  if (rel === "src/errors.ts") return rel;
  const parts = rel.split("/");
  if (parts[0] === "ffi") return "ffi";
  if (parts[0] === "src" && parts.length > 2) return `src/${parts[1]}`;
  return undefined;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** The specifiers of every static import/export and literal dynamic import of a file. */
export function importsOf(source: string): string[] {
  // Doc comments hold @example code that imports the package as a user would; not the module's imports.
  source = source.replace(/^[ \t]*\/\*\*[\s\S]*?\*\//gm, "");
  const specs: string[] = [];
  const re =
    /(?:^|[\s;])(?:import|export)\s[^"';]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|^import\s*["']([^"']+)["']/gm;
  for (const m of source.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3]);
  return specs;
}

/** Every violation of the rule in the given files. */
export function violations(files: string[]): string[] {
  const bad: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    if (from === undefined) {
      bad.push(`${relative(root, file)}: in no layer of docs/ARCHITECTURE.md`);
      continue;
    }
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) {
        // Runtime modules: only ffi/ may know the runtime; tools above the library may use node: builtins.
        const ok = spec.startsWith("node:") ? RANK[from] >= RANK["src/inspect"] || from === "ffi" : from === "ffi";
        if (!ok) bad.push(`${relative(root, file)}: imports "${spec}" (only ffi/ talks to the runtime)`);
        continue;
      }
      const to = layerOf(resolve(dirname(file), spec));
      if (to === undefined) {
        bad.push(`${relative(root, file)}: imports ${spec}, outside every layer`);
        continue;
      }
      if (to === from) continue;
      if (RANK[to] >= RANK[from]) bad.push(`${relative(root, file)} (${from}) imports ${spec} (${to})`);
    }
  }
  return bad;
}

const sources = () => [...walk(join(root, "src")), ...walk(join(root, "ffi"))];

test("layers: every import in src/ and ffi/ goes to its own layer or a lower one", () => {
  const files = sources();
  assert.ok(files.length > 40, `found only ${files.length} modules`);
  assert.deepEqual(violations(files), []);
});

test("layers: the checker catches an upward, a sibling and a runtime import", () => {
  // The same function over modules made up for the test, so the check itself can fail.
  const upward = importsOf('import { Queue } from "../structures/queue.ts";\n');
  assert.deepEqual(upward, ["../structures/queue.ts"]);
  const fake = (file: string, spec: string) => {
    const from = layerOf(join(root, file))!;
    const to = layerOf(resolve(dirname(join(root, file)), spec))!;
    return to !== from && RANK[to] >= RANK[from];
  };
  assert.equal(fake("src/segment/segment.ts", "../structures/queue.ts"), true);
  assert.equal(fake("src/structures/queue.ts", "../sync/mutex.ts"), true);
  assert.equal(fake("src/sync/mutex.ts", "../structures/queue.ts"), true);
  assert.equal(fake("src/wait/wait.ts", "../segment/memory.ts"), false);
  assert.equal(fake("ffi/mod.ts", "../src/errors.ts"), false);
  assert.equal(fake("ffi/mod.ts", "../src/segment/memory.ts"), true);
  assert.deepEqual(importsOf('const x = await import("bun:ffi");\nexport * from "./a.ts";\nimport "./side.ts";'), [
    "bun:ffi",
    "./a.ts",
    "./side.ts",
  ]);
});

test("layers: docs/ARCHITECTURE.md names every folder of src/ and ffi/", () => {
  const doc = readFileSync(join(root, "docs/ARCHITECTURE.md"), "utf8");
  const folders = [
    "ffi",
    ...readdirSync(join(root, "src")).filter((e) => statSync(join(root, "src", e)).isDirectory()).map((e) => `src/${e}`),
  ];
  for (const sub of readdirSync(join(root, "src/structures"))) {
    if (statSync(join(root, "src/structures", sub)).isDirectory()) folders.push(`${sub}/`);
  }
  for (const f of folders) {
    assert.ok(
      doc.includes(`\`${f}${f.endsWith("/") ? "" : "/"}`) || doc.includes(`\`${f}\``),
      `ARCHITECTURE.md does not name ${f}`,
    );
    if (!f.endsWith("/")) assert.ok(f in RANK, `${f} has no rank in this test: add it to RANK and to the doc's table`);
  }
});
