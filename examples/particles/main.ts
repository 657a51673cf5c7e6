/**
 * The shmkit demo (posix_shm's application layer): a simulation process moves
 * 10,000 particles in a shared array of structs, a renderer process draws them in the
 * terminal, and an analytics process computes live statistics, all through one
 * shared memory segment. Simulation and analytics run on Bun, the renderer and this
 * orchestrator on Deno (override with SHMKIT_DEMO_SIM / _RENDER / _ANALYTICS).
 *
 * With a terminal it runs until Ctrl-C; without one (CI) it runs a few seconds
 * (--seconds N), prints a summary, and exits 0 only if every check passed. Either way
 * it removes its segment.
 */
import { spawn } from "node:child_process";
import { Segment } from "../../mod.ts";
import { C, createShared, env, S } from "./layout.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const args: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const tty: boolean = g.Deno ? g.Deno.stdout.isTerminal() : !!g.process.stdout.isTTY;
const secondsArg = args.indexOf("--seconds");
const seconds = secondsArg >= 0 ? Number(args[secondsArg + 1]) : tty ? Infinity : 4;
const pid: number = g.Deno ? g.Deno.pid : g.process.pid;
const name = `shmkit-demo-${pid}`;
const here = (f: string) => decodeURIComponent(new URL(f, import.meta.url).pathname);
const size: { columns: number; rows: number } = (() => {
  try {
    if (tty) return g.Deno ? g.Deno.consoleSize() : { columns: g.process.stdout.columns, rows: g.process.stdout.rows };
  } catch { /* not a terminal after all */ }
  return { columns: 80, rows: 24 };
})();

const sh = createShared(name);
Atomics.store(sh.control, C.running, 1);

type Rt = "deno" | "bun";
function launch(script: string, rt: Rt) {
  const cmd = rt === "deno" ? env("SHMKIT_DENO") ?? "deno" : env("SHMKIT_BUN") ?? "bun";
  const argv = rt === "deno" ? ["run", "-A", "--quiet", here(script), name] : ["run", here(script), name];
  const child = spawn(cmd, argv, {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...g.process.env,
      SHMKIT_DEMO_TTY: tty ? "1" : "0",
      SHMKIT_DEMO_COLS: String(size.columns),
      SHMKIT_DEMO_ROWS: String(size.rows),
    },
  });
  const exited = new Promise<number>((resolve) => {
    child.on("exit", (code: number | null, signal: string | null) => resolve(code ?? (signal ? 128 : 1)));
    child.on("error", (e: Error) => {
      console.error(`demo: could not start ${rt} (${cmd}): ${e.message}`);
      resolve(127);
    });
  });
  return { script, rt, child, exited };
}

const procs = [
  launch("simulate.ts", (env("SHMKIT_DEMO_SIM") ?? "bun") as Rt),
  launch("render.ts", (env("SHMKIT_DEMO_RENDER") ?? "deno") as Rt),
  launch("analytics.ts", (env("SHMKIT_DEMO_ANALYTICS") ?? "bun") as Rt),
];
if (!tty) console.log(`demo: segment "${name}", ${procs.map((p) => `${p.script} on ${p.rt}`).join(", ")}, ${seconds} s`);

// Stop on Ctrl-C, on the time limit, or as soon as any process fails.
let stopReason = "";
const stopped = new Promise<void>((resolve) => {
  const stop = (why: string) => {
    if (!stopReason) stopReason = why;
    Atomics.store(sh.control, C.running, 0);
    resolve();
  };
  if (g.Deno) g.Deno.addSignalListener("SIGINT", () => stop("Ctrl-C"));
  else g.process.on("SIGINT", () => stop("Ctrl-C"));
  if (Number.isFinite(seconds)) setTimeout(() => stop(`${seconds} s elapsed`), seconds * 1000);
  for (const p of procs) p.exited.then((code) => code !== 0 && stop(`${p.script} exited with ${code}`));
});
await stopped;

// Give the processes time to leave their loops; kill any that do not.
const codes = await Promise.all(
  procs.map((p) =>
    Promise.race([p.exited, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]).then((code) => {
      if (code === -1) p.child.kill("SIGKILL");
      return code;
    })
  ),
);

const frames = Atomics.load(sh.control, C.frames);
const rendered = Atomics.load(sh.control, C.rendered);
const samples = Atomics.load(sh.control, C.samples);
const retries = Atomics.load(sh.control, C.retries);
const idsIntact = sh.stats[S.idSumOk] === 1;
let particlesOk = true;
for (let i = 0; i < sh.particles.length; i++) {
  const p = sh.particles.get(i);
  if (p.id !== i || !(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1)) particlesOk = false;
}
sh.seg.close();
Segment.unlink(name);

const checks: [string, boolean][] = [
  ["every process exited cleanly", codes.every((c) => c === 0)],
  ["simulation produced frames", frames > 0],
  ["renderer drew frames", rendered > 0],
  ["analytics computed statistics", samples > 0],
  ["particle ids intact in every analysed frame", idsIntact],
  ["final frame: all particles inside the box with their own id", particlesOk],
];
console.log(
  `demo summary (${stopReason}): ${frames} frames simulated, ${rendered} drawn, ${samples} analysed, ` +
    `${retries} seqlock retries; exit codes ${procs.map((p, i) => `${p.script}=${codes[i]}`).join(" ")}`,
);
for (const [what, ok] of checks) console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`);
const ok = checks.every(([, ok]) => ok);
if (g.Deno) g.Deno.exit(ok ? 0 : 1);
else g.process.exit(ok ? 0 : 1);
