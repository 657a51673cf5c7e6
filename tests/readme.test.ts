import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "./harness.ts";
import { run, type Runtime } from "./helpers/procs.ts";

const root = new URL("../", import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), "utf8");

test("README quick start is examples/quickstart.ts, verbatim but for the import path", () => {
  const readme = read("README.md");
  const example = read("examples/quickstart.ts").replace(`from "../mod.ts"`, `from "@shmkit/shmkit"`);
  assert.ok(readme.includes(example.trim()), "README's quick start differs from examples/quickstart.ts");
});

for (const rt of ["deno", "bun"] as Runtime[]) {
  test(`quick start example runs under ${rt} and prints what it wrote`, async () => {
    const out = await run(rt, new URL("examples/quickstart.ts", root), [], 30_000);
    assert.match(out.replace(/\s+/g, " "), /x: 1\.5, y: -2, id: 7,? \} 1/);
  });
}
