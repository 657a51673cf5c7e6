/**
 * Helpers for the packaging tests: the JSR file set as `deno publish --dry-run` lists
 * it, a loopback HTTP server for it, the npm tarball, child processes with a chosen
 * environment, and fake libraries for the failure paths.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { SYMBOLS } from "../../ffi/symbols.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const envOf = (name: string): string | undefined => g.Deno ? g.Deno.env.get(name) : g.process.env[name];

/** The repository root (no trailing slash). */
export const root: string = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
export const denoBin: string = envOf("SHMKIT_DENO") ?? "deno";
export const bunBin: string = envOf("SHMKIT_BUN") ?? "bun";

/** A fresh temporary folder (removed by `cleanup`). */
export function tempDir(tag: string): string {
  return mkdtempSync(`${tmpdir()}/shmkit-${tag}-`);
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

export interface ProcResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after `timeout` ms), never throws for a non-zero exit. */
export function exec(
  cmd: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeout?: number } = {},
): Promise<ProcResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env ?? (g.Deno ? g.Deno.env.toObject() : g.process.env))) {
    if (v !== undefined) env[k] = v as string;
  }
  const child = spawn(cmd, args, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const timeout = options.timeout ?? 60_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")} did not finish in ${timeout} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeout);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Throws with the output unless the command exited 0. */
export async function execOk(cmd: string, args: readonly string[], options: Parameters<typeof exec>[2] = {}): Promise<string> {
  const r = await exec(cmd, args, options);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/**
 * The environment of a package user: no SHMKIT_LIB, no Zig on PATH, its own
 * DENO_DIR and cache folder, no colours.
 */
export function userEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  const base: Record<string, string | undefined> = { ...(g.Deno ? g.Deno.env.toObject() : g.process.env) };
  delete base.SHMKIT_LIB;
  delete base.DENO_DIR;
  delete base.XDG_CACHE_HOME;
  base.PATH = (base.PATH ?? "").split(":").filter((d) => d && !existsSync(`${d}/zig`)).join(":");
  base.NO_COLOR = "1";
  base.DENO_NO_UPDATE_CHECK = "1";
  return { ...base, ...extra };
}

let jsrList: string[] | undefined;

/** The files `deno publish --dry-run` would publish, relative to the root. */
export async function jsrFiles(): Promise<string[]> {
  if (jsrList) return jsrList;
  const r = await exec(denoBin, ["publish", "--dry-run", "--allow-dirty"], { cwd: root, env: userEnv({}), timeout: 120_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.code !== 0) throw new Error(`deno publish --dry-run failed\n${out}`);
  // The dry run must stay clean: a warning usually means a file or import JSR will not serve as expected.
  if (/warning\[/.test(out)) throw new Error(`deno publish --dry-run warns\n${out}`);
  const files: string[] = [];
  for (const m of out.matchAll(/^\s+file:\/\/(\S+) \([\d.]+[KM]?B\)$/gm)) {
    const abs = decodeURIComponent(m[1]!);
    if (!abs.startsWith(root + "/")) throw new Error(`publish lists a file outside the root: ${abs}`);
    files.push(abs.slice(root.length + 1));
  }
  if (files.length === 0) throw new Error(`no files in the publish listing\n${out}`);
  return jsrList = files;
}

/** Copies the JSR file set into `dest` (a stand-in for what JSR serves). */
export async function copyJsrSet(dest: string): Promise<string[]> {
  const files = await jsrFiles();
  for (const f of files) {
    mkdirSync(`${dest}/${f.slice(0, f.lastIndexOf("/") + 1)}`, { recursive: true });
    cpSync(`${root}/${f}`, `${dest}/${f}`);
  }
  return files;
}

const TYPES: Record<string, string> = {
  ts: "application/typescript; charset=utf-8",
  json: "application/json",
  md: "text/markdown",
  so: "application/octet-stream",
};

export interface Server {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly host: string;
  /** Paths requested so far. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1 (a random port) with the content types JSR uses. Requests
 * whose path matches `drop` get their connection reset, as with no network.
 */
export function serve(dir: string, options: { drop?: RegExp } = {}): Promise<Server> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(path);
    if (options.drop?.test(path)) {
      req.socket.destroy();
      return;
    }
    const file = `${dir}${path}`;
    if (path.includes("..") || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end("not found");
      return;
    }
    const ext = path.slice(path.lastIndexOf(".") + 1);
    res.writeHead(200, { "content-type": TYPES[ext] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        host: `127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}

let tarball: Promise<string> | undefined;

/** Builds the npm package once per test process (scripts/build-npm.sh into a temp folder); returns the .tgz. */
export function npmTarball(): Promise<string> {
  tarball ??= (async () => {
    const out = tempDir("npm");
    const stdout = await execOk("bash", [`${root}/scripts/build-npm.sh`, out], { timeout: 180_000 });
    const tgz = stdout.trim().split("\n").pop()!;
    if (!existsSync(tgz)) throw new Error(`build-npm.sh printed ${tgz}, which does not exist`);
    return tgz;
  })();
  return tarball;
}

/** A folder with a package.json, as `bun init` or `npm init` would start one. */
export function emptyProject(tag: string): string {
  const dir = tempDir(tag);
  writeFileSync(`${dir}/package.json`, JSON.stringify({ name: "app", private: true, type: "module" }));
  return dir;
}

/** Lists a folder, or [] when it does not exist. */
export function list(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/**
 * Builds a stand-in libshmkit with zig cc: every symbol of the ABI (stubs returning
 * 0), `shmkit_abi_version` returning `abi`, and, when `marker` is given, a constructor
 * that creates that file, so a test can tell whether the library was ever loaded;
 * `onlyAbi`: nothing but `shmkit_abi_version` (a library of an older ABI lacks symbols).
 */
export async function fakeLibrary(dir: string, options: { abi: number; marker?: string; onlyAbi?: boolean }): Promise<string> {
  const lines = ["#include <fcntl.h>", "#include <unistd.h>"];
  for (const name of options.onlyAbi ? ["shmkit_abi_version"] : Object.keys(SYMBOLS)) {
    lines.push(
      name === "shmkit_abi_version" ? `int ${name}(void) { return ${options.abi}; }` : `long ${name}(void) { return 0; }`,
    );
  }
  if (options.marker) {
    lines.push(
      `__attribute__((constructor)) static void loaded(void) { int fd = open("${options.marker}", O_CREAT | O_WRONLY, 0600); if (fd >= 0) close(fd); }`,
    );
  }
  writeFileSync(`${dir}/fake.c`, lines.join("\n") + "\n");
  const out = `${dir}/libfake-${options.abi}${options.marker ? "-marker" : ""}${options.onlyAbi ? "-abi" : ""}.so`;
  await execOk(zigBin(), ["cc", "-shared", "-fPIC", "-O1", "-target", "x86_64-linux-gnu", "-o", out, `${dir}/fake.c`], {
    timeout: 120_000,
  });
  return out;
}

/** The zig of scripts/setup.sh (on PATH in the test run). */
export function zigBin(): string {
  for (const d of (envOf("PATH") ?? "").split(":")) if (d && existsSync(`${d}/zig`)) return `${d}/zig`;
  return `${root}/.tools/zig/ziglang/zig`;
}

/** Parses the last stdout line as JSON. */
export function lastLine<T>(stdout: string): T {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as T;
}
