/**
 * Exits clean up (issue 11, item 4; docs/LIFECYCLE.md). A child process of either
 * runtime with a segment that has unlinkOnLastClose open: SIGINT and SIGTERM, an
 * uncaught exception, an unhandled rejection and a normal end all leave no segment
 * behind, and the process ends with the status it would have had without shmkit
 * (130 / 143 as a shell reports a death by SIGINT / SIGTERM, 1 for an uncaught error).
 * A program's own SIGINT listener is kept and decides; the opt-outs install nothing.
 * A stale segment (every attached process dead) makes Segment.create say so, and
 * replaceStale replaces it exactly once while processes of both runtimes race.
 *
 * The children run under `bash -c 'set -m; … & wait'` so that their exit status is
 * bash's (128 + signal for a death by a signal): Deno's node:child_process reports the
 * signal it sent even when the child handled it and exited otherwise.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { exitHooksInstalled } from "../ffi/exit.ts";
import { i32, Segment, SharedAtomic } from "../mod.ts";
import { H } from "../src/segment/format.ts";
import { test, uniqueName } from "./harness.ts";
import { throwsCode } from "./helpers/errors.ts";
import { command, lastJson, run, type Runtime } from "./helpers/procs.ts";

const WORKER = new URL("./workers/exit_worker.ts", import.meta.url);
const SCRIPT = decodeURIComponent(WORKER.pathname);

interface Exited {
  status: number;
  stdout: string;
  stderr: string;
}

interface Wrapped {
  /** The runtime's pid (not bash's). */
  readonly pid: Promise<number>;
  readonly done: Promise<Exited>;
  waitForLine(line: string): Promise<void>;
  signal(sig: "SIGINT" | "SIGTERM" | "SIGKILL"): Promise<void>;
}

/** Runs the worker in `mode` under bash job control; its status is what a shell would report. */
function startChild(rt: Runtime, mode: string, name: string, env: Record<string, string> = {}, timeoutMs = 30_000): Wrapped {
  const [cmd, argv] = command(rt, SCRIPT, [mode, name]);
  const script = 'set -m; "$@" & echo "child-pid=$!"; wait $!; echo "child-status=$?"';
  const child = spawn("bash", ["-c", script, "bash", cmd, ...argv], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  const waiters: { line: string; resolve: () => void }[] = [];
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    stdout += chunk;
    const lines = stdout.split("\n");
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (lines.includes(waiters[i].line)) waiters.splice(i, 1)[0].resolve();
    }
  });
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  const done = new Promise<Exited>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${rt} ${mode} did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on("close", () => {
      clearTimeout(timer);
      const m = /child-status=(\d+)/.exec(stdout);
      if (!m) reject(new Error(`no status from ${rt} ${mode}\nstdout: ${stdout}\nstderr: ${stderr}`));
      else resolve({ status: Number(m[1]), stdout, stderr });
    });
  });
  const waitForLine = (line: string) =>
    new Promise<void>((resolve, reject) => {
      if (stdout.split("\n").includes(line)) return resolve();
      waiters.push({ line, resolve });
      done.then(
        () => reject(new Error(`${rt} ${mode} exited before printing "${line}"\nstdout: ${stdout}\nstderr: ${stderr}`)),
        reject,
      );
    });
  const pid = (async () => {
    for (;;) {
      const m = /child-pid=(\d+)/.exec(stdout);
      if (m) return Number(m[1]);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    pid,
    done,
    waitForLine,
    signal: async (sig) => void process.kill(await pid, sig),
  };
}

const present = (name: string) => existsSync(`/dev/shm/${name}`);

function explain(e: Exited): string {
  return `stdout: ${e.stdout}\nstderr: ${e.stderr}`;
}

const RUNTIMES: Runtime[] = ["deno", "bun"];

for (const rt of RUNTIMES) {
  for (const [sig, status] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    test(`exits: ${rt} child killed by ${sig} removes its unlinkOnLastClose segment and dies of the signal (${status})`, async () => {
      const name = uniqueName("exitsig");
      const c = startChild(rt, "hold", name);
      try {
        await c.waitForLine("ready");
        assert.ok(present(name));
        await c.signal(sig);
        const e = await c.done;
        assert.equal(e.status, status, explain(e));
        assert.ok(!present(name), `segment ${name} left in /dev/shm`);
      } finally {
        Segment.unlink(name);
      }
    });
  }

  for (const mode of ["throw", "reject", "end"] as const) {
    const what = { throw: "an uncaught exception", reject: "an unhandled rejection", end: "a normal end without close" }[mode];
    test(`exits: ${rt} child ended by ${what} removes its unlinkOnLastClose segment`, async () => {
      const name = uniqueName("exiterr");
      const c = startChild(rt, mode, name);
      try {
        const e = await c.done;
        assert.ok(e.stdout.includes("ready\n"), explain(e));
        assert.equal(e.status, mode === "end" ? 0 : 1, explain(e));
        assert.ok(!present(name), `segment ${name} left in /dev/shm`);
      } finally {
        Segment.unlink(name);
      }
    });
  }

  const other: Runtime = rt === "deno" ? "bun" : "deno";
  test(`exits: ${rt} child killed by SIGINT while a ${other} process is attached: the segment stays until that one goes`, async () => {
    const name = uniqueName("exitshare");
    const a = startChild(rt, "hold", name);
    let b: Wrapped | undefined;
    try {
      await a.waitForLine("ready");
      b = startChild(other, "open", name);
      await b.waitForLine("ready");
      await a.signal("SIGINT");
      const ea = await a.done;
      assert.equal(ea.status, 130, explain(ea));
      assert.ok(present(name), "removed while another process still had it open");
      const probe = Segment.open(name);
      assert.deepEqual(probe.processes().length, 2, "the killed process's attachment was released");
      probe.close();
      await b.signal("SIGTERM");
      const eb = await b.done;
      assert.equal(eb.status, 143, explain(eb));
      assert.ok(!present(name), "the last process to go did not remove it");
    } finally {
      if (b) await b.signal("SIGKILL").catch(() => {});
      Segment.unlink(name);
    }
  });

  test(`exits: ${rt} program with its own SIGINT listener keeps it: it runs, the segment stays usable, the program goes on`, async () => {
    const name = uniqueName("exitown");
    const c = startChild(rt, "own-continue", name);
    try {
      await c.waitForLine("ready");
      await c.signal("SIGINT");
      await c.waitForLine("handled usable=true");
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(present(name), "shmkit removed the segment although the program handled SIGINT");
      await c.signal("SIGTERM"); // no listener of its own for this one
      const e = await c.done;
      assert.equal(e.status, 143, explain(e));
      assert.ok(!present(name));
    } finally {
      await c.signal("SIGKILL").catch(() => {});
      Segment.unlink(name);
    }
  });

  test(`exits: ${rt} program whose own SIGINT listener exits with 7: status 7, segment removed at the exit`, async () => {
    const name = uniqueName("exitown7");
    const c = startChild(rt, "own-exit", name);
    try {
      await c.waitForLine("ready");
      await c.signal("SIGINT");
      const e = await c.done;
      assert.ok(e.stdout.includes("handled\n"), explain(e));
      assert.equal(e.status, 7, explain(e));
      assert.ok(!present(name));
    } finally {
      Segment.unlink(name);
    }
  });

  for (const how of ["cleanupOnExit: false", "SHMKIT_NO_SIGNAL_HANDLERS=1"] as const) {
    test(`exits: ${rt} opt-out (${how}): nothing is installed, SIGINT kills at once and the segment stays`, async () => {
      const name = uniqueName("exitoptout");
      const c = how === "cleanupOnExit: false"
        ? startChild(rt, "optout", name)
        : startChild(rt, "hold", name, { SHMKIT_NO_SIGNAL_HANDLERS: "1" });
      try {
        await c.waitForLine("ready");
        await c.signal("SIGINT");
        const e = await c.done;
        assert.equal(e.status, 130, explain(e));
        assert.ok(present(name), "the opt-out did not keep the segment");
      } finally {
        Segment.unlink(name);
      }
    });
  }
}

test("exits: the hooks are installed only while a segment with unlinkOnLastClose is open in this process", async () => {
  const turn = () => new Promise((r) => setTimeout(r, 0)); // removal happens at the end of the closing task
  const a = uniqueName("exithooks");
  const b = uniqueName("exithooks");
  const before = exitHooksInstalled();
  const plain = Segment.create(a, { size: 1 << 16 });
  try {
    assert.equal(exitHooksInstalled(), before, "a segment without unlinkOnLastClose installs nothing");
    const optout = Segment.create(b, { size: 1 << 16, unlinkOnLastClose: true, cleanupOnExit: false });
    assert.equal(exitHooksInstalled(), before, "cleanupOnExit: false installs nothing");
    optout.close();
    await turn();
    if (exitHooksInstalled()) return; // some other test of this process still has one open
    const s1 = Segment.create(b, { size: 1 << 16, unlinkOnLastClose: true });
    assert.equal(exitHooksInstalled(), true);
    const s2 = Segment.open(b); // an opener of such a segment cleans up too
    s1.close();
    await turn();
    assert.equal(exitHooksInstalled(), true, "removed while a segment is still open");
    s2.close();
    await turn();
    assert.equal(exitHooksInstalled(), false, "left installed after the last close");
    assert.ok(!present(b));
  } finally {
    plain.close();
    Segment.unlink(a);
    Segment.unlink(b);
  }
});

test("exits: a Worker installs nothing (signals are the main thread's)", async () => {
  const worker = new Worker(new URL("./workers/exit_thread.ts", import.meta.url), { type: "module" });
  try {
    const name = uniqueName("exitthread");
    const reply = await new Promise<{ installed: boolean }>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(String((e as ErrorEvent).message ?? e)));
      worker.postMessage({ name });
    });
    assert.deepEqual(reply, { installed: false });
    assert.ok(!present(name));
  } finally {
    worker.terminate();
  }
});

/** Leaves `name` stale: a child of `rt` creates it (unlinkOnLastClose; we add an atomic "mark" = 42) and is SIGKILLed. */
async function leaveStale(rt: Runtime, name: string): Promise<number> {
  const c = startChild(rt, "hold", name);
  await c.waitForLine("ready");
  const pid = await c.pid;
  const seg = Segment.open(name);
  SharedAtomic.create(seg, "mark", i32, 42);
  seg.close();
  await c.signal("SIGKILL");
  await c.done;
  assert.ok(present(name));
  return pid;
}

for (const rt of RUNTIMES) {
  test(
    `stale: a segment whose every attached process (${rt}) is dead: create says so with the fix; replaceStale replaces it`,
    async () => {
      const name = uniqueName("stale");
      try {
        const dead = await leaveStale(rt, name);
        const e = throwsCode("EXISTS", () => Segment.create(name, { size: 1 << 16 }), /every process attached|is dead/);
        assert.equal(e.reason, "STALE");
        assert.match(e.message, new RegExp(`pid ${dead}`));
        assert.match(e.message, /replaceStale: true/);
        assert.match(e.message, /Segment\.unlink\(|shmkit gc/);
        // Without the option, openOrCreate opens it as it is: its data is still there.
        const kept = Segment.openOrCreate(name, { size: 1 << 16 });
        assert.equal(SharedAtomic.open(kept, "mark", i32).load(), 42);
        // While a live process is attached it is not stale: a plain EXISTS, and replaceStale does nothing.
        const live = throwsCode("EXISTS", () => Segment.create(name, { size: 1 << 16, replaceStale: true }));
        assert.equal(live.reason, undefined);
        kept[Symbol.dispose](); // unlinkOnLastClose came from the header: this removes it
        assert.ok(!present(name));
        await leaveStale(rt, name);
        const fresh = Segment.create(name, { size: 1 << 16, replaceStale: true });
        try {
          assert.deepEqual(fresh.list(), [], "a new segment, not the stale one");
          assert.equal(fresh.memory.u32[H.creatorPid >> 2], process.pid);
        } finally {
          fresh.close();
        }
      } finally {
        Segment.unlink(name);
      }
    },
    { timeout: 60_000 },
  );
}

test("stale: a segment that is merely unused (everyone closed it) is not stale: plain EXISTS", () => {
  const name = uniqueName("stalenot");
  Segment.create(name, { size: 1 << 16 }).close();
  try {
    const e = throwsCode("EXISTS", () => Segment.create(name, { size: 1 << 16, replaceStale: true }));
    assert.equal(e.reason, undefined);
  } finally {
    Segment.unlink(name);
  }
});

interface RaceOut {
  created: boolean;
  pid: number;
}

const RACERS: Runtime[] = ["deno", "bun", "deno", "bun"];
test(
  `stale: ${RACERS.length} processes of both runtimes race openOrCreate with replaceStale: exactly one new segment, all in it`,
  async () => {
    for (let round = 0; round < 2; round++) {
      const name = uniqueName("stalerace");
      try {
        await leaveStale(round === 0 ? "deno" : "bun", name);
        const startAt = String(Date.now() + 2_500);
        const outs = await Promise.all(
          RACERS.map((rt) => run(rt, WORKER, ["race", name, startAt], 40_000).then((o) => lastJson<RaceOut>(o))),
        );
        const seg = Segment.open(name, { timeoutMs: 0 });
        try {
          assert.equal(seg.has("jobs"), false, `round ${round}: the stale segment is still behind the name`);
          const n = SharedAtomic.open(seg, "n", i32).load();
          assert.equal(n, RACERS.length, `round ${round}: only ${n} of ${RACERS.length} racers counted in the final segment`);
        } finally {
          seg.close();
        }
        const creators = outs.filter((o) => o.created).length;
        assert.equal(creators, 1, `round ${round}: ${creators} racers think they made the segment`);
      } finally {
        Segment.unlink(name);
      }
    }
  },
  { timeout: 120_000 },
);
