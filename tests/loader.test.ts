/**
 * Every failure path of the native library loader (ffi/mod.ts), each with its exact
 * error code, in child processes set up as a package user would have them: a copy of
 * the JSR file set on disk (file: URLs) or served on 127.0.0.1 (http: URLs), Deno with
 * restricted permissions, unwritable cache folders, a faked platform, tampered
 * libraries, manifests and cache files. Libraries that must never be loaded carry a
 * constructor that leaves a marker file: the marker proves dlopen was not reached.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { runtime, test } from "./harness.ts";
import {
  bunBin,
  cleanup,
  copyJsrSet,
  denoBin,
  emptyProject,
  exec,
  execOk,
  fakeLibrary,
  lastLine,
  list,
  npmTarball,
  root,
  serve,
  tempDir,
  userEnv,
} from "./helpers/package.ts";
import { ABI_VERSION } from "../ffi/native.ts";

const TARGET = "x86_64-linux-gnu";
const manifest = JSON.parse(readFileSync(`${root}/native/manifest.json`, "utf8"));
const entry = manifest.libraries[TARGET];
const cacheName = `libshmkit-${TARGET}-${entry.sha256.slice(0, 16)}.so`;

interface Outcome {
  ok: boolean;
  lib?: string;
  code?: string;
  message?: string;
}

/** A program that loads shmkit from `spec` and reports the library path or the error, as JSON. */
function probe(spec: string, prelude = ""): string {
  return `${prelude}
try {
  const { libraryPath } = await import("${spec}");
  console.log(JSON.stringify({ ok: true, lib: libraryPath() }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, code: e?.code, name: e?.name, message: String(e?.message ?? e) }));
}
`;
}

async function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string | undefined>,
): Promise<Outcome & { stderr: string }> {
  const r = await exec(cmd, args, { cwd, env, timeout: 60_000 });
  assert.equal(r.code, 0, `${cmd} ${args.join(" ")}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return { ...lastLine<Outcome>(r.stdout), stderr: r.stderr };
}

function expectCode(o: Outcome, code: string, pattern?: RegExp): void {
  assert.equal(o.ok, false, `expected ${code}, loaded ${o.lib}`);
  assert.equal(o.code, code, o.message);
  if (pattern) assert.match(o.message!, pattern);
}

/** A copy of the JSR file set on disk with a probe next to mod.ts. */
async function localPackage(tag: string): Promise<string> {
  const dir = tempDir(tag);
  await copyJsrSet(dir);
  writeFileSync(`${dir}/probe.ts`, probe("./mod.ts"));
  return dir;
}

function flip(path: string, at = 200): void {
  const b = readFileSync(path);
  b[at] = b[at]! ^ 0xff;
  writeFileSync(path, b);
}

// ------------------------------------------------------------------ file: URLs (clone, npm, local copy)

test(`loader: Deno without --allow-ffi → PERMISSION naming --allow-ffi`, async () => {
  const pkg = await localPackage("perm-ffi");
  try {
    const o = await run(denoBin, ["run", `--allow-read=${pkg}`, "probe.ts"], pkg, userEnv({}));
    expectCode(o, "PERMISSION", /--allow-ffi/);
  } finally {
    cleanup(pkg);
  }
});

test(`loader: Deno without --allow-read → PERMISSION naming --allow-read=<native folder> (not "not found")`, async () => {
  const pkg = await localPackage("perm-read");
  try {
    const o = await run(denoBin, ["run", "--allow-ffi", "probe.ts"], pkg, userEnv({}));
    expectCode(o, "PERMISSION", new RegExp(`--allow-read=${pkg}/native`));
    const ok = await run(denoBin, ["run", "--allow-ffi", `--allow-read=${pkg}/native`, "probe.ts"], pkg, userEnv({}));
    assert.equal(ok.lib, `${pkg}/native/libshmkit-${TARGET}.so`);
  } finally {
    cleanup(pkg);
  }
});

for (const rt of ["deno", "bun"] as const) {
  const cmd = (file: string): [string, string[]] => rt === "deno" ? [denoBin, ["run", "-A", file]] : [bunBin, [file]];

  test(`loader: a shipped library that fails its checksum → LIBRARY_MISMATCH, never dlopen'd (${rt})`, async () => {
    const pkg = await localPackage("bad-sum");
    const marker = `${pkg}/LOADED`;
    try {
      const fake = await fakeLibrary(pkg, { abi: ABI_VERSION, marker });
      writeFileSync(`${pkg}/native/libshmkit-${TARGET}.so`, readFileSync(fake));
      const o = await run(...cmd("probe.ts"), pkg, userEnv({}));
      expectCode(o, "LIBRARY_MISMATCH", /does not match native\/manifest\.json/);
      assert.ok(!existsSync(marker), "the tampered library was loaded");
    } finally {
      cleanup(pkg);
    }
  }, { timeout: 120_000 });

  test(`loader: a manifest for another ABI, or malformed → LIBRARY_MISMATCH before dlopen (${rt})`, async () => {
    const pkg = await localPackage("bad-manifest");
    const marker = `${pkg}/LOADED`;
    try {
      const fake = await fakeLibrary(pkg, { abi: ABI_VERSION, marker });
      writeFileSync(`${pkg}/native/libshmkit-${TARGET}.so`, readFileSync(fake));
      writeFileSync(`${pkg}/native/manifest.json`, JSON.stringify({ ...manifest, abi: 99 }));
      expectCode(await run(...cmd("probe.ts"), pkg, userEnv({})), "LIBRARY_MISMATCH", /native ABI 99/);
      writeFileSync(
        `${pkg}/native/manifest.json`,
        JSON.stringify({ abi: ABI_VERSION, libraries: { [TARGET]: { file: "x.so" } } }),
      );
      expectCode(await run(...cmd("probe.ts"), pkg, userEnv({})), "LIBRARY_MISMATCH", /not valid/);
      assert.ok(!existsSync(marker), "a library was loaded despite the manifest");
    } finally {
      cleanup(pkg);
    }
  }, { timeout: 120_000 });

  test(`loader: a library with another ABI version → LIBRARY_MISMATCH (${rt})`, async () => {
    const dir = tempDir("abi");
    try {
      // The marker also shows the other tests' markers work: this library is loaded, then rejected.
      const fake = await fakeLibrary(dir, { abi: 1, marker: `${dir}/LOADED` });
      writeFileSync(`${dir}/probe.ts`, probe(`${root}/mod.ts`));
      const o = await run(...cmd("probe.ts"), dir, { ...userEnv({}), SHMKIT_LIB: fake });
      expectCode(o, "LIBRARY_MISMATCH", new RegExp(`has ABI 1, this code expects ${ABI_VERSION}`));
      assert.ok(existsSync(`${dir}/LOADED`), "the marker constructor did not run");
      // An older library lacks symbols this code binds: still the version is reported, not a missing symbol.
      const old = await fakeLibrary(dir, { abi: ABI_VERSION - 1, onlyAbi: true });
      const o2 = await run(...cmd("probe.ts"), dir, { ...userEnv({}), SHMKIT_LIB: old });
      expectCode(o2, "LIBRARY_MISMATCH", new RegExp(`has ABI ${ABI_VERSION - 1}, this code expects ${ABI_VERSION}: rebuild it`));
    } finally {
      cleanup(dir);
    }
  }, { timeout: 120_000 });

  test(`loader: no library in the package and no checkout build → LIBRARY_MISSING that a package user can act on (${rt})`, async () => {
    const pkg = await localPackage("missing");
    try {
      for (const f of list(`${pkg}/native`)) if (f.endsWith(".so")) cleanup(`${pkg}/native/${f}`);
      const o = await run(...cmd("probe.ts"), pkg, userEnv({}));
      expectCode(o, "LIBRARY_MISSING", /reinstall/);
      assert.match(o.message!, /SHMKIT_LIB/);
    } finally {
      cleanup(pkg);
    }
  });

  test(`loader: an unsupported platform → UNSUPPORTED naming OS and architecture (${rt})`, async () => {
    const pkg = await localPackage("platform");
    try {
      for (const [os, arch, bunArch] of [["darwin", "aarch64", "arm64"], ["linux", "riscv64", "riscv64"]]) {
        const fake = rt === "deno"
          ? `Object.defineProperty(Deno, "build", { value: { ...Deno.build, os: "${os}", arch: "${arch}" } });`
          : `Object.defineProperty(process, "platform", { value: "${os}" }); Object.defineProperty(process, "arch", { value: "${bunArch}" });`;
        writeFileSync(`${pkg}/fake.ts`, probe("./mod.ts", fake));
        const o = await run(...cmd("fake.ts"), pkg, userEnv({}));
        expectCode(o, "UNSUPPORTED", new RegExp(`${os} on ${arch}`));
      }
    } finally {
      cleanup(pkg);
    }
  });
}

// ------------------------------------------------------------------ http: URLs (JSR) and the cache

/** The JSR set served on loopback, an app folder importing it as @shmkit/shmkit, and a fresh DENO_DIR. */
async function jsr(tag: string, options: { drop?: RegExp; tamper?: (srv: string) => Promise<void> | void } = {}) {
  const srv = tempDir(`${tag}-srv`);
  await copyJsrSet(srv);
  await options.tamper?.(srv);
  const server = await serve(srv, { drop: options.drop });
  const app = tempDir(`${tag}-app`);
  const denoDir = tempDir(`${tag}-deno-dir`);
  const cache = tempDir(`${tag}-cache`);
  writeFileSync(`${app}/deno.json`, JSON.stringify({ imports: { "@shmkit/shmkit": `${server.url}/mod.ts` } }));
  writeFileSync(`${app}/probe.ts`, probe("@shmkit/shmkit"));
  return {
    server,
    app,
    cache,
    shmkitCache: `${cache}/shmkit`,
    env: (extra: Record<string, string | undefined> = {}) => userEnv({ DENO_DIR: denoDir, XDG_CACHE_HOME: cache, ...extra }),
    /** Deno with the README's permissions, minus the ones named in `without`. */
    run(without: string[] = [], extra: Record<string, string | undefined> = {}, flags?: string[]) {
      const all: Record<string, string> = {
        import: `--allow-import=${server.host}`,
        ffi: "--allow-ffi",
        env: "--allow-env=XDG_CACHE_HOME,HOME",
        read: `--allow-read=${cache}`,
        write: `--allow-write=${cache}`,
      };
      const args = flags ?? Object.entries(all).filter(([k]) => !without.includes(k)).map(([, v]) => v);
      return run(denoBin, ["run", ...args, "probe.ts"], app, this.env(extra));
    },
    async close() {
      await server.close();
      cleanup(srv, app, denoDir, cache);
    },
  };
}

test("loader: JSR without --allow-env → PERMISSION naming --allow-env=XDG_CACHE_HOME,HOME", async () => {
  const j = await jsr("perm-env");
  try {
    expectCode(await j.run(["env"]), "PERMISSION", /--allow-env=XDG_CACHE_HOME,HOME/);
  } finally {
    await j.close();
  }
});

test("loader: JSR without --allow-write for the cache → PERMISSION naming --allow-write=<cache>", async () => {
  const j = await jsr("perm-write");
  try {
    expectCode(await j.run(["write"]), "PERMISSION", new RegExp(`--allow-write=${j.shmkitCache}`));
    assert.deepEqual(list(j.shmkitCache), []);
  } finally {
    await j.close();
  }
});

test("loader: JSR without --allow-read for the cache → PERMISSION naming --allow-read=<cache>", async () => {
  const j = await jsr("perm-read");
  try {
    expectCode(await j.run(["read"]), "PERMISSION", new RegExp(`--allow-read=${j.shmkitCache}`));
  } finally {
    await j.close();
  }
});

test("loader: JSR without --allow-ffi → PERMISSION naming --allow-ffi", async () => {
  const j = await jsr("perm-jsr-ffi");
  try {
    expectCode(await j.run(["ffi"]), "PERMISSION", /--allow-ffi/);
  } finally {
    await j.close();
  }
});

test("loader: JSR with no network for the first download → LIBRARY_MISSING naming the URL; once cached, no network is needed", async () => {
  const j = await jsr("offline", { drop: /^\/native\/embed-/ });
  try {
    const o = await j.run();
    expectCode(o, "LIBRARY_MISSING", /could not download .*native\/embed-x86_64-linux-gnu\.ts/);
    assert.deepEqual(list(j.shmkitCache), []);
  } finally {
    await j.close();
  }
  const online = await jsr("online");
  try {
    const first = await online.run();
    assert.equal(first.ok, true, first.message);
    await online.server.close();
    assert.equal((await online.run()).lib, first.lib, "a cached program needs no network");
  } finally {
    await online.close();
  }
});

test(
  "loader: JSR with a module graph whose library does not match the manifest → LIBRARY_MISMATCH, nothing cached or loaded",
  async () => {
    let marker = "";
    const j = await jsr("bad-embed", {
      async tamper(srv) {
        marker = `${srv}/LOADED`;
        const fake = readFileSync(await fakeLibrary(srv, { abi: ABI_VERSION, marker }));
        writeFileSync(`${srv}/native/embed-${TARGET}.ts`, `export const base64: string = "${fake.toString("base64")}";\n`);
      },
    });
    try {
      expectCode(await j.run(), "LIBRARY_MISMATCH", /does not match native\/manifest\.json/);
      assert.deepEqual(list(j.shmkitCache), []);
      assert.ok(!existsSync(marker), "the tampered library was loaded");
    } finally {
      await j.close();
    }
  },
  { timeout: 120_000 },
);

test(
  "loader: JSR cache file with one byte flipped, or replaced by another library, is detected and replaced, never loaded",
  async () => {
    const j = await jsr("corrupt-cache");
    const marker = `${j.app}/LOADED`;
    try {
      const first = await j.run();
      assert.equal(first.lib, `${j.shmkitCache}/${cacheName}`);
      const good = readFileSync(first.lib!);
      flip(first.lib!);
      const again = await j.run();
      assert.equal(again.lib, first.lib);
      assert.deepEqual(readFileSync(first.lib!), good, "the corrupt file was not replaced");
      writeFileSync(first.lib!, readFileSync(await fakeLibrary(j.app, { abi: ABI_VERSION, marker })));
      assert.equal((await j.run()).lib, first.lib);
      assert.ok(!existsSync(marker), "a cached file that fails its checksum was loaded");
      assert.deepEqual(readFileSync(first.lib!), good);
      assert.deepEqual(list(j.shmkitCache), [cacheName]);
    } finally {
      await j.close();
    }
  },
  { timeout: 120_000 },
);

test("loader: JSR with a cache folder that cannot be written falls back to a private temporary copy (with a warning), removed after loading", async () => {
  const j = await jsr("ro-cache");
  const tmp = tempDir("fallback-tmp");
  try {
    // A path under a regular file can never be created, whoever we are (root ignores modes).
    writeFileSync(`${j.cache}/file`, "");
    const o = await j.run([], { XDG_CACHE_HOME: `${j.cache}/file/sub`, TMPDIR: tmp }, ["-A"]);
    assert.equal(o.ok, true, o.message);
    assert.match(o.lib!, new RegExp(`^${tmp}/shmkit-`));
    assert.match(o.stderr, /cannot be written \(ENOTDIR\); loaded the native library from a temporary copy/);
    assert.deepEqual(list(tmp), [], "the temporary copy was left behind");

    // ...and when the temporary folder cannot be written either: PERMISSION, saying what to set.
    const none = await j.run([], { XDG_CACHE_HOME: `${j.cache}/file/sub`, TMPDIR: `${j.cache}/file` }, ["-A"]);
    expectCode(none, "PERMISSION", /cannot be written.*set XDG_CACHE_HOME/);
  } finally {
    cleanup(tmp);
    await j.close();
  }
});

test(
  `loader: a Bun executable replaces a corrupt cache file and falls back when the cache cannot be written (${runtime} runner)`,
  async () => {
    const app = emptyProject("exe-cache");
    const cache = tempDir("exe-cache-dir");
    const tmp = tempDir("exe-tmp");
    try {
      await execOk(bunBin, ["add", await npmTarball()], { cwd: app });
      writeFileSync(`${app}/probe.ts`, probe("shmkit"));
      await execOk(bunBin, ["build", "--compile", "probe.ts", "--outfile", "probe"], { cwd: app });
      const exe = (env: Record<string, string>) => run(`${app}/probe`, [], app, userEnv(env));
      const first = await exe({ XDG_CACHE_HOME: cache });
      assert.equal(first.lib, `${cache}/shmkit/${cacheName}`);
      const good = readFileSync(first.lib!);
      flip(first.lib!);
      assert.equal((await exe({ XDG_CACHE_HOME: cache })).lib, first.lib);
      assert.deepEqual(readFileSync(first.lib!), good);
      writeFileSync(`${cache}/file`, "");
      const fallback = await exe({ XDG_CACHE_HOME: `${cache}/file/sub`, TMPDIR: tmp });
      assert.match(fallback.lib!, new RegExp(`^${tmp}/shmkit-`));
      assert.deepEqual(list(tmp), []);
    } finally {
      cleanup(app, cache, tmp);
    }
  },
  { timeout: 120_000 },
);
