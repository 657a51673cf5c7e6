/**
 * Park-only round trips between two processes, in one run: the native futex ping-pong
 * (bench/fastpath_futex_pingpong.zig, the C-level baseline) against shmkit's SpscQueue
 * ping-pong on the native fast path in both handshake modes (seq_cst publish, and the
 * asymmetric one whose waiter pays a membarrier per park) and through the SpscQueue
 * handle. Rounds interleave so that noise hits every row alike; the table gives the
 * best round's p50 and mean and their ratio to the baseline's.
 *
 *   deno run -A bench/fastpath_rtt.bench.ts [rounds=5] [trips=5000] [spin=0]
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { f64, Segment, SpscQueue } from "../mod.ts";
import { benchSegmentName, executable, type Runtime, scriptArgv } from "./common.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const ROUNDS = Number(argv[0] ?? 5), TRIPS = Number(argv[1] ?? 5000), SPIN = argv[2] ?? "0";
const here = decodeURIComponent(new URL(".", import.meta.url).pathname);
const exe = `${here}../zig-out/fastpath_futex_pingpong`;
if (!existsSync(exe)) {
  execFileSync("zig", ["build-exe", "-OReleaseFast", `${here}fastpath_futex_pingpong.zig`, `-femit-bin=${exe}`], {
    stdio: "inherit",
  });
}

function runOut(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    c.stdout!.on("data", (d) => (out += d));
    c.stderr!.on("data", (d) => (err += d));
    c.on("close", (code) => (code === 0 ? resolve(out + err) : reject(new Error(`${cmd} ${args.join(" ")}: ${code}\n${err}`))));
  });
}

type Row = { p50: number; mean: number };
async function shm(rt: Runtime, how: string, mode: string): Promise<Row> {
  const name = benchSegmentName(`fprtt-${rt}`);
  Segment.unlink(name);
  const seg = Segment.create(name, { size: 1 << 20 });
  SpscQueue.create(seg, "ping", f64, 16);
  SpscQueue.create(seg, "pong", f64, 16);
  try {
    const worker = `${here}fastpath_rtt_worker.ts`;
    const [a] = await Promise.all(
      ["a", "b"].map((role) => runOut(executable(rt)!, scriptArgv(rt, worker, [name, how, mode, role, String(TRIPS), SPIN]))),
    );
    const j = JSON.parse(a.trim().split("\n").pop()!);
    return { p50: j.p50_ns, mean: j.mean_ns };
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}
async function futex(): Promise<Row> {
  const j = JSON.parse((await runOut(exe, [String(TRIPS)])).trim().split("\n").pop()!);
  return { p50: j.p50_ns, mean: j.mean_ns };
}

const runtimes = (["deno", "bun"] as Runtime[]).filter((rt) => executable(rt) !== undefined);
const rows: [string, () => Promise<Row>][] = [["native futex ping-pong (baseline)", futex]];
for (const rt of runtimes) {
  rows.push([`${rt}: fast path, seq_cst publish`, () => shm(rt, "native", "0")]);
  rows.push([`${rt}: SpscQueue push + popWait`, () => shm(rt, "lib", "-")]);
}
const best = rows.map(() => ({ p50: Infinity, mean: Infinity }));
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? rows.map((_, i) => i) : rows.map((_, i) => rows.length - 1 - i);
  for (const i of order) {
    const x = await rows[i][1]();
    best[i].p50 = Math.min(best[i].p50, x.p50);
    best[i].mean = Math.min(best[i].mean, x.mean);
  }
}
console.log(`park-only round trips (spin ${SPIN}), ${TRIPS} per measurement, best of ${ROUNDS} interleaved rounds`);
for (let i = 0; i < rows.length; i++) {
  const b = best[i], c = best[0];
  console.log(
    `  ${rows[i][0].padEnd(42)} p50 ${(b.p50 / 1000).toFixed(1).padStart(6)} µs (x${(b.p50 / c.p50).toFixed(2)})   mean ${
      (b.mean / 1000).toFixed(1).padStart(6)
    } µs (x${(b.mean / c.mean).toFixed(2)})`,
  );
}
