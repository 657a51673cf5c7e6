/**
 * The packaged libraries (native/, written by `zig build`): the same sources give the
 * same bytes, each file is for the machine it claims (readelf) with the same exported
 * symbols, needs nothing newer than glibc 2.17, and, where this machine can run them,
 * loads in an aarch64 Deno and Bun under qemu-user and in a musl process.
 * The qemu and musl checks are optional: without apt or the npm registry they print
 * why they were skipped and pass.
 */
import assert from "node:assert/strict";
import { ABI_VERSION } from "../ffi/native.ts";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { SYMBOLS } from "../ffi/symbols.ts";
import { test } from "./harness.ts";
import { cleanup, copyJsrSet, exec, execOk, list, root, tempDir, userEnv, zigBin } from "./helpers/package.ts";

const manifest = JSON.parse(readFileSync(`${root}/native/manifest.json`, "utf8"));
const TARGETS = Object.keys(manifest.libraries);
const MACHINE: Record<string, string> = { x86_64: "Advanced Micro Devices X86-64", aarch64: "AArch64" };

/** Installs a Debian package when `probe` is missing (root, apt reachable); false if it cannot. */
async function ensureApt(probe: string, ...packages: string[]): Promise<boolean> {
  if (existsSync(probe)) return true;
  const r = await exec("sh", [
    "-c",
    `apt-get install -y -qq ${packages.join(" ")} >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq ${
      packages.join(" ")
    }) >/dev/null 2>&1`,
  ], {
    timeout: 300_000,
  });
  return r.code === 0 && existsSync(probe);
}

async function readelf(): Promise<string | undefined> {
  return await ensureApt("/usr/bin/readelf", "binutils") ? "/usr/bin/readelf" : undefined;
}

function skip(what: string, why: string): void {
  console.log(`SKIPPED (optional): ${what}: ${why}`);
}

test(
  "native: the Zig unit tests pass (zig/*.zig `test` blocks: fast paths, hostile indices and positions, bindings)",
  async () => {
    const out = await exec(zigBin(), ["build", "test", "--summary", "all"], { cwd: root, timeout: 280_000 });
    const said = out.stdout + out.stderr;
    assert.equal(out.code, 0, said);
    const m = /(\d+)\/(\d+) tests passed/.exec(said);
    assert.ok(m, `no test count in: ${said}`);
    assert.equal(m[1], m[2], said);
    // Every `test` block of zig/ ran (a file the root stopped importing would drop its tests silently).
    const blocks = readdirSync(`${root}/zig`).filter((f) => f.endsWith(".zig"))
      .reduce((n, f) => n + (readFileSync(`${root}/zig/${f}`, "utf8").match(/^test "/gm)?.length ?? 0), 0);
    assert.equal(Number(m[1]), blocks, `${m[1]} Zig tests ran, zig/ has ${blocks}`);
  },
  { timeout: 300_000 },
);

test(
  "native: the same sources give the same bytes (a copy at another path, its own prefix and fresh caches, against native/)",
  async () => {
    const a = tempDir("repro");
    try {
      // native/ was built by scripts/setup.sh from the checkout with its usual caches; build
      // again from a copy of the sources elsewhere, sharing no cache, and compare bytes.
      const copy = `${a}/src/deeper`;
      mkdirSync(copy, { recursive: true });
      for (const f of ["build.zig", "build.zig.zon", "zig"]) cpSync(`${root}/${f}`, `${copy}/${f}`, { recursive: true });
      await execOk(zigBin(), [
        "build",
        "native",
        "-p",
        `${a}/out`,
        "--cache-dir",
        `${a}/cache`,
        "--global-cache-dir",
        `${a}/global`,
      ], {
        cwd: copy,
        timeout: 280_000,
      });
      const files = list(`${root}/native`);
      assert.deepEqual(list(`${a}/out/native`), files);
      for (const f of files) {
        const shipped = readFileSync(`${root}/native/${f}`);
        assert.ok(readFileSync(`${a}/out/native/${f}`).equals(shipped), `${f} differs between the two builds`);
        assert.ok(!shipped.includes(root) && !shipped.includes(a), `${f} names a build path`);
      }
    } finally {
      cleanup(a);
    }
  },
  { timeout: 300_000 },
);

test("native: each library is for its machine, exports exactly the ABI's symbols, and needs at most glibc 2.17", async () => {
  const bin = await readelf();
  if (!bin) return skip("readelf checks", "binutils is not installed and apt-get could not install it");
  const expected = Object.keys(SYMBOLS).sort();
  for (const t of TARGETS) {
    const path = `${root}/native/${manifest.libraries[t].file}`;
    const header = await execOk(bin, ["-h", path]);
    assert.match(header, new RegExp(`Machine:\\s+${MACHINE[t.split("-")[0]!]}`), `${t}\n${header}`);
    assert.match(header, /Type:\s+DYN/);
    const syms = await execOk(bin, ["--dyn-syms", "-W", path]);
    const exported = [...syms.matchAll(/\sFUNC\s+GLOBAL\s+DEFAULT\s+\d+\s+(shmkit_\w+)/g)].map((m) => m[1]!).sort();
    assert.deepEqual(exported, expected, t);
    const dynamic = await execOk(bin, ["-d", "-V", path]);
    const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
    if (t.endsWith("-musl")) assert.deepEqual(needed, ["libc.so"], t);
    else {
      assert.ok(needed.every((n) => /^lib(c|m|dl|pthread)\.so\.\d$/.test(n)), `${t} needs ${needed}`);
      const versions = [...dynamic.matchAll(/GLIBC_2\.(\d+)/g)].map((m) => Number(m[1]));
      assert.ok(Math.max(...versions) <= 17, `${t} needs GLIBC_2.${Math.max(...versions)}`);
    }
  }
});

/** The aarch64 glibc Deno or Bun from npm, unpacked into .tools/cross (downloaded once). */
async function aarch64Runtime(spec: string, binary: string): Promise<string | undefined> {
  const dir = `${root}/.tools/cross/${spec.replace(/[@/]/g, "_")}`;
  const path = `${dir}/package/${binary}`;
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const packed = await exec("npm", ["pack", "--silent", spec], { cwd: dir, timeout: 300_000 });
  const tgz = packed.stdout.trim().split("\n").pop();
  if (packed.code !== 0 || !tgz) return undefined;
  const untar = await exec("tar", ["xzf", tgz], { cwd: dir, timeout: 120_000 });
  cleanup(`${dir}/${tgz}`);
  return untar.code === 0 && existsSync(path) ? path : undefined;
}

test(
  "native: under qemu-user, an aarch64 Deno and Bun from npm load the aarch64 library through the loader and use a segment",
  async () => {
    if (!await ensureApt("/usr/bin/qemu-aarch64-static", "qemu-user-static")) {
      return skip("aarch64 under qemu", "qemu-user-static is not installed and apt-get could not install it");
    }
    if (!await ensureApt("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1", "libc6-arm64-cross", "libgcc-s1-arm64-cross")) {
      return skip(
        "aarch64 under qemu",
        "the aarch64 C library (libc6-arm64-cross) is not installed and apt-get could not install it",
      );
    }
    const pkg = tempDir("aarch64");
    try {
      await copyJsrSet(pkg);
      writeFileSync(
        `${pkg}/probe.ts`,
        `import { libraryPath, Segment, SharedAtomic, u64 } from "./mod.ts";
using seg = Segment.create("shmkit-test-aarch64-" + Date.now(), { size: 1 << 16, unlinkOnLastClose: true });
const a = SharedAtomic.create(seg, "a", u64, 40n);
console.log(JSON.stringify({ lib: libraryPath(), value: String(a.add(2n) + 2n) }));
`,
      );
      let ran = 0;
      for (
        const [name, spec, binary, args] of [
          ["bun", "@oven/bun-linux-aarch64@1.4.5", "bin/bun", ["probe.ts"]],
          ["deno", "@deno/linux-arm64-glibc@2.9.6", "deno", ["run", "-A", "probe.ts"]],
        ] as const
      ) {
        const rt = await aarch64Runtime(spec, binary);
        if (!rt) {
          skip(`aarch64 ${name} under qemu`, `could not fetch ${spec} from the npm registry`);
          continue;
        }
        const out = await execOk("/usr/bin/qemu-aarch64-static", ["-L", "/usr/aarch64-linux-gnu", rt, ...args], {
          cwd: pkg,
          env: userEnv({ DENO_DIR: `${pkg}/.deno` }),
          timeout: 120_000,
        });
        const r = JSON.parse(out.trim().split("\n").pop()!);
        assert.equal(r.lib, `${pkg}/native/libshmkit-aarch64-linux-gnu.so`, name);
        assert.equal(r.value, "42", name); // add returns the previous value
        ran++;
      }
      if (ran === 0) skip("aarch64 under qemu", "no aarch64 runtime could be fetched");
    } finally {
      cleanup(pkg);
    }
  },
  { timeout: 600_000 },
);

test("native: the musl library loads in a musl process (dlopen, ABI version, a futex wake)", async () => {
  if (!await ensureApt("/lib/ld-musl-x86_64.so.1", "musl")) {
    return skip("musl load", "musl is not installed and apt-get could not install it");
  }
  const dir = tempDir("musl");
  try {
    writeFileSync(
      `${dir}/host.zig`,
      `const std = @import("std");
pub fn main() !void {
    const args = try std.process.argsAlloc(std.heap.page_allocator);
    const h = std.c.dlopen(args[1], .{ .NOW = true }) orelse return error.DlopenFailed;
    const abi: *const fn () callconv(.c) i32 = @ptrCast(std.c.dlsym(h, "shmkit_abi_version").?);
    const wake: *const fn (f64, u32, i32) callconv(.c) i32 = @ptrCast(std.c.dlsym(h, "shmkit_futex_wake").?);
    var word: u32 align(8) = 0;
    const woke = wake(@floatFromInt(@intFromPtr(&word)), 0, 1);
    try std.io.getStdOut().writer().print("abi {d} woke {d}\\n", .{ abi(), woke });
}
`,
    );
    await execOk(zigBin(), ["build-exe", "-dynamic", "-lc", "-target", "x86_64-linux-musl", "host.zig", "-femit-bin=host"], {
      cwd: dir,
      timeout: 240_000,
    });
    const interp = readFileSync(`${dir}/host`).includes("/lib/ld-musl-x86_64.so.1");
    assert.ok(interp, "the host is not a dynamic musl program");
    const out = await execOk(`${dir}/host`, [`${root}/native/libshmkit-x86_64-linux-musl.so`], { cwd: dir });
    assert.equal(out.trim(), `abi ${ABI_VERSION} woke 0`);
  } finally {
    cleanup(dir);
  }
}, { timeout: 300_000 });
