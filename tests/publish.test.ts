import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "./harness.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const deno: string = (g.Deno ? g.Deno.env.get("SHMKIT_DENO") : g.process.env.SHMKIT_DENO) ?? "deno";

test("the package passes JSR's publish checks (explicit types on the public API, no slow types)", () => {
  const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
  const r = spawnSync(deno, ["publish", "--dry-run", "--allow-dirty"], { cwd: root, encoding: "utf8", timeout: 120_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.match(out, /Dry run complete/);
  assert.doesNotMatch(out, /error\[|Found \d+ problem/, out);
}, { timeout: 130_000 });

test("every script type-checks: child-process workers, helpers, benchmarks and examples (deno run does not check them)", () => {
  const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
  const dirs = ["tests/workers", "tests/helpers", "bench", "examples", "examples/particles"];
  const files = dirs.flatMap((d) =>
    (spawnSync("ls", [d], { cwd: root, encoding: "utf8" }).stdout ?? "").split("\n").filter((f) => f.endsWith(".ts")).map((f) =>
      `${d}/${f}`
    )
  );
  assert.ok(files.length > 30, `found only ${files.length} scripts`);
  const r = spawnSync(deno, ["check", "mod.ts", "cli.ts", ...files], { cwd: root, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
}, { timeout: 130_000 });

test("deno lint passes on the whole tree", () => {
  const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
  const r = spawnSync(deno, ["lint"], { cwd: root, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
}, { timeout: 130_000 });

// The doc checks compare text, so no colour codes in it.
const noColor: Record<string, string> = { ...(g.Deno ? g.Deno.env.toObject() : g.process.env), NO_COLOR: "1" };

test("every export is documented: deno doc --lint mod.ts reports no problems", () => {
  const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
  const r = spawnSync(deno, ["doc", "--lint", "mod.ts"], { cwd: root, encoding: "utf8", timeout: 120_000, env: noColor });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.doesNotMatch(out, /error\[|documentation lint error/, out);
}, { timeout: 130_000 });

test("every @example in the docs type-checks and runs (deno test --doc)", () => {
  const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
  const r = spawnSync(deno, ["test", "--doc", "--allow-all", "mod.ts", "src/", "ffi/mod.ts", "cli.ts"], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
    env: noColor,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.match(out, /ok \| \d+ passed \| 0 failed/, out);
}, { timeout: 130_000 });
