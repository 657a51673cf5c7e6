/**
 * The npm package (scripts/build-npm.sh): what the tarball holds, that the compiled
 * JavaScript behaves as the TypeScript source does under both runtimes, that a Bun
 * project with bun init's strict tsconfig type-checks against it, and what a package
 * user sees of ffi/ in the docs.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { test, uniqueName } from "./harness.ts";
import { bunBin, cleanup, denoBin, emptyProject, exec, execOk, npmTarball, root, tempDir, userEnv } from "./helpers/package.ts";

const manifest = JSON.parse(readFileSync(`${root}/native/manifest.json`, "utf8"));
const tsc = `${root}/node_modules/.bin/tsc`;

async function unpacked(): Promise<string> {
  const dir = tempDir("npm-unpacked");
  await execOk("tar", ["xzf", await npmTarball(), "-C", dir]);
  return `${dir}/package`;
}

test(
  "npm package: compiled JS with .d.ts, the libraries and manifest, README and LICENSE; no sources, tests, bench or examples",
  async () => {
    const files = (await execOk("tar", ["tzf", await npmTarball()])).trim().split("\n").map((f) => f.replace(/^package\//, ""))
      .sort();
    for (const e of Object.values(manifest.libraries) as { file: string }[]) {
      assert.ok(
        files.includes(`native/${e.file}`),
        e.file,
      );
    }
    for (
      const f of ["native/manifest.json", "mod.js", "mod.d.ts", "bun.js", "bun.d.ts", "package.json", "README.md", "LICENSE"]
    ) {
      assert.ok(files.includes(f), `missing ${f}`);
    }
    const stray = files.filter((f) =>
      /^(tests|bench|examples|scripts|zig|docs)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts")) || f.includes("embed-")
    );
    assert.deepEqual(stray, []);
    for (const js of files.filter((f) => f.endsWith(".js"))) {
      assert.ok(
        files.includes(js.replace(/\.js$/, ".d.ts")),
        `${js} has no .d.ts`,
      );
    }

    const pkg = JSON.parse(readFileSync(`${await unpacked()}/package.json`, "utf8"));
    const deno = JSON.parse(readFileSync(`${root}/deno.json`, "utf8"));
    assert.equal(pkg.name, "shmkit");
    assert.equal(pkg.version, deno.version);
    assert.equal(pkg.license, "MIT");
    assert.equal(pkg.type, "module");
    assert.equal(pkg.private, undefined);
    assert.deepEqual(pkg.exports["."], { types: "./mod.d.ts", bun: "./bun.js", import: "./mod.js", default: "./mod.js" });
    assert.deepEqual(pkg.files, ["mod.js", "mod.d.ts", "cli.js", "cli.d.ts", "bun.js", "bun.d.ts", "src/", "ffi/", "native/"]);
    assert.match(readFileSync(`${root}/LICENSE`, "utf8"), /MIT License[\s\S]*Copyright \(c\) 2026 the shmkit authors/);
  },
  { timeout: 180_000 },
);

test("npm package: the compiled package and the source give the same transcript under Deno and Bun", async () => {
  const pkg = await unpacked();
  try {
    const worker = `${root}/tests/workers/conformance.ts`;
    const runs: [string, string[], string][] = [
      ["deno source", [denoBin, "run", "-A", worker, `${root}/mod.ts`], ""],
      ["deno compiled", [denoBin, "run", "-A", worker, `${pkg}/mod.js`], ""],
      ["bun source", [bunBin, worker, `${root}/mod.ts`], ""],
      ["bun compiled", [bunBin, worker, `${pkg}/mod.js`], ""],
      ["bun compiled (bun entry)", [bunBin, worker, `${pkg}/bun.js`], ""],
    ];
    for (const r of runs) {
      const [cmd, ...args] = r[1];
      r[2] = (await execOk(cmd!, [...args, uniqueName("conf")], { env: userEnv({}) })).trim().split("\n").pop()!;
    }
    const source = runs[0]![2];
    assert.match(source, /"closed and unlinked","NOT_FOUND"/);
    for (const [what, , transcript] of runs) assert.equal(transcript, source, `${what} differs from deno source`);
  } finally {
    cleanup(pkg.replace(/\/package$/, ""));
  }
}, { timeout: 180_000 });

test("npm package: tsc --noEmit is clean in a Bun project with @types/bun and bun init's strict tsconfig", async () => {
  const app = emptyProject("tsc-app");
  try {
    await execOk(bunBin, ["add", await npmTarball()], { cwd: app });
    writeFileSync(`${app}/tsconfig.json`, readFileSync(`${root}/tests/fixtures/bun-init-tsconfig.json`));
    // @types/bun as `bun add -d @types/bun` would install it (taken from this checkout: no registry in tests).
    mkdirSync(`${app}/node_modules/@types`, { recursive: true });
    for (const p of ["@types/bun", "@types/node", "bun-types", "undici-types"]) {
      symlinkSync(`${root}/node_modules/${p}`, `${app}/node_modules/${p}`);
    }
    const quickstart = readFileSync(`${root}/examples/quickstart.ts`, "utf8").replace(`from "../mod.ts"`, `from "shmkit"`);
    writeFileSync(`${app}/index.ts`, quickstart + readFileSync(`${root}/tests/fixtures/typed_usage.ts`, "utf8"));
    const r = await exec(tsc, ["--noEmit", "-p", app], { cwd: app });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    // With the package's own .d.ts checked too (bun init skips lib checks): no error in shmkit.
    const strict = await exec(tsc, ["--noEmit", "-p", app, "--skipLibCheck", "false"], { cwd: app });
    const ours = `${strict.stdout}${strict.stderr}`.split("\n").filter((l) => l.includes("node_modules/shmkit/"));
    assert.deepEqual(ours, []);
  } finally {
    cleanup(app);
  }
}, { timeout: 180_000 });

test("npm package: ffi/ type-checks under bun init's strict options (noUncheckedIndexedAccess and the rest)", async () => {
  const dir = tempDir("tsc-ffi");
  try {
    writeFileSync(
      `${dir}/tsconfig.json`,
      JSON.stringify({
        extends: `${root}/tests/fixtures/bun-init-tsconfig.json`,
        compilerOptions: { typeRoots: [`${root}/node_modules/@types`] },
        files: [`${root}/mod.ts`],
      }),
    );
    const r = await exec(tsc, ["--noEmit", "-p", dir]);
    const ffi = `${r.stdout}${r.stderr}`.split("\n").filter((l) => /(^|\/)ffi\//.test(l));
    assert.deepEqual(ffi, []);
  } finally {
    cleanup(dir);
  }
}, { timeout: 120_000 });

test("docs: deno doc --lint mod.ts reports nothing for ffi/ exports, and their @example runs under deno test --doc", async () => {
  const lint = await exec(denoBin, ["doc", "--lint", "mod.ts"], { cwd: root, env: userEnv({}) });
  const ffi = `${lint.stdout}${lint.stderr}`.split("\n").filter((l) => /-->.*\/ffi\//.test(l));
  assert.deepEqual(ffi, []);
  const doc = await exec(denoBin, ["test", "-A", "--doc", "ffi/mod.ts"], { cwd: root, env: userEnv({}), timeout: 120_000 });
  assert.equal(doc.code, 0, `${doc.stdout}\n${doc.stderr}`);
  assert.match(doc.stdout, /1 passed/);
}, { timeout: 130_000 });
