/**
 * shmkit installed as a package user would, on loopback only:
 * - the JSR file set (exactly what `deno publish --dry-run` lists) served over HTTP,
 *   imported by Deno from an empty folder with a fresh DENO_DIR, no Zig on PATH and no
 *   SHMKIT_LIB, with the narrowest permissions the README names;
 * - the npm tarball installed with `bun add` and with `npm install` (for Deno's npm:);
 * - a `bun build --compile` executable run after its source folder is deleted;
 * all four sharing one segment; then eight processes of both runtimes loading at once
 * into an empty cache.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { Segment } from "../mod.ts";
import { test, uniqueName } from "./harness.ts";
import {
  bunBin,
  cleanup,
  copyJsrSet,
  denoBin,
  emptyProject,
  execOk,
  lastLine,
  list,
  npmTarball,
  root,
  serve,
  tempDir,
  userEnv,
} from "./helpers/package.ts";

const manifest = JSON.parse(readFileSync(`${root}/native/manifest.json`, "utf8"));
const cacheFile = `libshmkit-x86_64-linux-gnu-${manifest.libraries["x86_64-linux-gnu"].sha256.slice(0, 16)}.so`;

function writer(spec: string, name: string): string {
  return `import { libraryPath, Segment, SharedArray, SharedAtomic, u32 } from "${spec}";
using seg = Segment.create("${name}", { size: 1 << 16 });
const values = SharedArray.create(seg, "values", u32, 8);
for (let i = 0; i < 8; i++) values.set(i, (i + 1) * 11);
SharedAtomic.create(seg, "readers", u32, 0);
console.log(JSON.stringify({ lib: libraryPath() }));
`;
}

function reader(spec: string, name: string): string {
  return `import { libraryPath, Segment, SharedArray, SharedAtomic, u32 } from "${spec}";
using seg = Segment.open("${name}");
const values = SharedArray.open(seg, "values", u32);
const readers = SharedAtomic.open(seg, "readers", u32).add(1) + 1;
console.log(JSON.stringify({ values: values.toArray(), readers, lib: libraryPath() }));
`;
}

const EXPECTED = [11, 22, 33, 44, 55, 66, 77, 88];

/** The Deno permissions README's install section names for a JSR import (cache under `cache`). */
function jsrFlags(host: string, cache: string): string[] {
  return [
    `--allow-import=${host}`,
    "--allow-ffi",
    "--allow-env=XDG_CACHE_HOME,HOME",
    `--allow-read=${cache}`,
    `--allow-write=${cache}`,
  ];
}

function quickstart(spec: string): string {
  return readFileSync(`${root}/examples/quickstart.ts`, "utf8").replace(`from "../mod.ts"`, `from "${spec}"`);
}

test("packaging: JSR over HTTP, npm with Bun, npm: with Deno and a Bun executable share one segment", async () => {
  const name = uniqueName("pkg");
  const srv = tempDir("jsr-srv");
  const jsrApp = tempDir("jsr-app");
  const bunApp = emptyProject("bun-app");
  const denoNpmApp = emptyProject("deno-npm-app");
  const exeDir = tempDir("exe");
  const cache = tempDir("cache");
  const denoDir = tempDir("deno-dir");
  const files = await copyJsrSet(srv);
  assert.ok(files.includes("native/manifest.json") && files.includes("native/libshmkit-x86_64-linux-gnu.so"), files.join(" "));
  assert.ok(files.includes("LICENSE"));
  assert.ok(!files.some((f) => /^(tests|bench|examples|scripts|zig)\//.test(f)), files.join(" "));
  const server = await serve(srv);
  try {
    const env = userEnv({ DENO_DIR: denoDir, XDG_CACHE_HOME: cache });

    // 1. Deno, JSR: creates the segment and writes. The import map is what `deno add` writes.
    writeFileSync(`${jsrApp}/deno.json`, JSON.stringify({ imports: { "@shmkit/shmkit": `${server.url}/mod.ts` } }));
    writeFileSync(`${jsrApp}/writer.ts`, writer("@shmkit/shmkit", name));
    const w = lastLine<{ lib: string }>(
      await execOk(denoBin, ["run", ...jsrFlags(server.host, cache), "writer.ts"], { cwd: jsrApp, env }),
    );
    assert.equal(w.lib, `${cache}/shmkit/${cacheFile}`);
    assert.deepEqual(list(`${cache}/shmkit`), [cacheFile]);
    assert.ok(server.requests.includes("/native/embed-x86_64-linux-gnu.ts"));
    assert.ok(!server.requests.some((p) => p.endsWith(".so")), "the library comes with the module graph, not as a download");

    // The README quick start, as written, after the JSR install.
    writeFileSync(`${jsrApp}/quickstart.ts`, quickstart("@shmkit/shmkit"));
    const q = await execOk(denoBin, ["run", ...jsrFlags(server.host, cache), "quickstart.ts"], { cwd: jsrApp, env });
    assert.match(q.replace(/\s+/g, " "), /x: 1\.5, y: -2, id: 7,? \} 1/);

    // 2. Bun, npm: `bun add ./shmkit-x.tgz` into an empty folder, then import "shmkit".
    const tgz = await npmTarball();
    await execOk(bunBin, ["add", tgz], { cwd: bunApp, env });
    writeFileSync(`${bunApp}/reader.ts`, reader("shmkit", name));
    const b = lastLine<{ values: number[]; readers: number; lib: string }>(
      await execOk(bunBin, ["reader.ts"], { cwd: bunApp, env }),
    );
    assert.deepEqual(b.values, EXPECTED);
    assert.equal(b.lib, `${bunApp}/node_modules/shmkit/native/libshmkit-x86_64-linux-gnu.so`);
    writeFileSync(`${bunApp}/quickstart.ts`, quickstart("shmkit"));
    assert.match(
      (await execOk(bunBin, ["quickstart.ts"], { cwd: bunApp, env })).replace(/\s+/g, " "),
      /x: 1\.5, y: -2, id: 7,? \} 1/,
    );

    // 3. Deno, npm: the same tarball through npm install (no registry needed for a file).
    await execOk("npm", ["install", "--no-audit", "--no-fund", "--silent", tgz], { cwd: denoNpmApp, env });
    writeFileSync(`${denoNpmApp}/reader.ts`, reader("npm:shmkit", name));
    const dn = lastLine<{ values: number[]; readers: number; lib: string }>(
      await execOk(denoBin, [
        "run",
        "--node-modules-dir=manual",
        "--allow-ffi",
        "--allow-read=node_modules/shmkit/native",
        "reader.ts",
      ], {
        cwd: denoNpmApp,
        env,
      }),
    );
    assert.deepEqual(dn.values, EXPECTED);
    assert.equal(dn.lib, `${denoNpmApp}/node_modules/shmkit/native/libshmkit-x86_64-linux-gnu.so`);

    // 4. A Bun executable, run after the folder it was built from is gone.
    const exe = `${exeDir}/reader`;
    await execOk(bunBin, ["build", "--compile", "reader.ts", "--outfile", exe], { cwd: bunApp, env });
    cleanup(bunApp);
    const exeCache = tempDir("exe-cache");
    try {
      const x = lastLine<{ values: number[]; readers: number; lib: string }>(
        await execOk(exe, [], { cwd: exeDir, env: { ...env, XDG_CACHE_HOME: exeCache } }),
      );
      assert.deepEqual(x.values, EXPECTED);
      assert.equal(x.readers, 3);
      assert.equal(x.lib, `${exeCache}/shmkit/${cacheFile}`);
    } finally {
      cleanup(exeCache);
    }
  } finally {
    await server.close();
    try {
      Segment.unlink(name);
    } catch {
      // not created
    }
    cleanup(srv, jsrApp, bunApp, denoNpmApp, exeDir, cache, denoDir);
  }
}, { timeout: 240_000 });

test(
  "packaging: eight Deno (JSR) and Bun (executable) processes loading at once into an empty cache all load; one file lands",
  async () => {
    const srv = tempDir("jsr-srv");
    const app = tempDir("race-app");
    const bunApp = emptyProject("race-bun");
    const denoDir = tempDir("deno-dir");
    const warm = tempDir("warm-cache");
    const cache = tempDir("race-cache");
    await copyJsrSet(srv);
    const server = await serve(srv);
    try {
      const program = `import { libraryPath } from "SPEC";\nconsole.log(JSON.stringify({ lib: libraryPath() }));\n`;
      writeFileSync(`${app}/deno.json`, JSON.stringify({ imports: { "@shmkit/shmkit": `${server.url}/mod.ts` } }));
      writeFileSync(`${app}/load.ts`, program.replace("SPEC", "@shmkit/shmkit"));
      // Fill DENO_DIR first (with another cache folder), so the race is about shmkit's cache.
      await execOk(denoBin, ["run", ...jsrFlags(server.host, warm), "load.ts"], {
        cwd: app,
        env: userEnv({ DENO_DIR: denoDir, XDG_CACHE_HOME: warm }),
      });
      await execOk(bunBin, ["add", await npmTarball()], { cwd: bunApp });
      writeFileSync(`${bunApp}/load.ts`, program.replace("SPEC", "shmkit"));
      const exe = `${app}/load-exe`;
      await execOk(bunBin, ["build", "--compile", "load.ts", "--outfile", exe], { cwd: bunApp });

      const env = userEnv({ DENO_DIR: denoDir, XDG_CACHE_HOME: cache });
      const runs = [];
      for (let i = 0; i < 4; i++) {
        runs.push(execOk(denoBin, ["run", ...jsrFlags(server.host, cache), "load.ts"], { cwd: app, env }));
        runs.push(execOk(exe, [], { cwd: app, env }));
      }
      const libs = (await Promise.all(runs)).map((out) => lastLine<{ lib: string }>(out).lib);
      assert.deepEqual(new Set(libs), new Set([`${cache}/shmkit/${cacheFile}`]));
      assert.deepEqual(list(`${cache}/shmkit`), [cacheFile], "exactly one file, no temporary leftovers");
      assert.ok(existsSync(`${cache}/shmkit/${cacheFile}`));
    } finally {
      await server.close();
      cleanup(srv, app, bunApp, denoDir, warm, cache);
    }
  },
  { timeout: 180_000 },
);
