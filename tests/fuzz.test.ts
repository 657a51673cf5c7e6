/**
 * Fuzz suite (issue 10): thousands of mutated copies of a segment holding one
 * structure of every kind (tests/helpers/fuzz_layout.ts), each opened and exercised by
 * a child of each runtime (tests/workers/fuzz_worker.ts). Mutations: adversarial values
 * (0, 1, -1, 2^31-1, 2^31, 2^32-1, capacity±1, neighbours of the old value, huge u64s,
 * a random word) in every header field, registry slot, name table entry field,
 * structure header field and control word, plus data-area words (sequence words,
 * links, free rings, flags), capacities changed alike in a structure's entry and its
 * block header (which are checked against each other), and random bit flips; a seeded PRNG, the seed printed, so a
 * failure is reproducible (SHMKIT_FUZZ_SEED=<seed>).
 *
 * Outcomes: ok, typed (a ShmError), raw (any other exception), canary (a byte outside
 * the exercised blocks changed), hang (no report within HANG_MS: the child is killed
 * and restarted after that case; a case is re-run once in a fresh child before it
 * counts as a hang, since a loaded machine can deschedule a bounded wait past HANG_MS),
 * signal (the child died of one). Every case must be ok or typed.
 *
 * SHMKIT_SOAK=1: every value for every field, and many more bit flips.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Segment } from "../mod.ts";
import { E, S } from "../src/segment/format.ts";
import { ALL_KINDS, buildTemplate, type Field, fieldsOf, type KindLabel, TEMPLATE_OPTIONS } from "./helpers/fuzz_layout.ts";
import { command, type Runtime } from "./helpers/procs.ts";
import { flag, runtime, test, uniqueName } from "./harness.ts";
import type { Case } from "./workers/fuzz_worker.ts";

/** Kinds in the template (and fuzzed). Remove one here to leave it out entirely. */
const FUZZ_KINDS: KindLabel[] = [...ALL_KINDS];

const SOAK = flag("SHMKIT_SOAK");
const HANG_MS = 2_000;
const WORKER = new URL("./workers/fuzz_worker.ts", import.meta.url);

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const env = (k: string): string | undefined => (g.Deno ? g.Deno.env.get(k) : g.process.env[k]);
const SEED = Number(env("SHMKIT_FUZZ_SEED") ?? (Date.now() % 0x7fffffff));

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

function read(bytes: Uint8Array, f: Field): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  return f.width === 8 ? dv.getUint32(f.at, true) + dv.getUint32(f.at + 4, true) * 0x1_0000_0000 : dv.getUint32(f.at, true);
}

/** The adversarial values for a field (outside soak, the first 8 of them, or 5 for control and data words). */
function valuesFor(f: Field, orig: number, rnd: () => number): number[] {
  const cap = f.capacity;
  const v = f.width === 8
    ? [0, 1, 0xffffffff, 2 ** 32, 2 ** 53 - 1, cap + 1, 2 ** 31, orig + 64, orig - 64, orig + 1, cap - 1, 2 ** 31 - 1]
    : [
      0xffffffff,
      0x80000000,
      cap + 1,
      0,
      1,
      0x7fffffff,
      0xfffffffe,
      cap,
      cap - 1,
      orig + 1,
      orig - 1,
      Math.floor(rnd() * 2 ** 32),
    ];
  const seen = new Set<number>();
  const out: number[] = [];
  for (const x of v) {
    if (x < 0 || x === orig || seen.has(x)) continue;
    seen.add(x);
    out.push(x);
  }
  const hot = f.cls === "control" || f.cls === "data";
  return SOAK ? out : out.slice(0, hot ? 5 : 8);
}

interface Outcome {
  cls: "ok" | "typed" | "raw" | "canary" | "hang" | "signal";
  detail: string;
}

interface Plan {
  cases: (Case & { field: string; fcls: string })[];
  hash: number;
}

function plan(): Plan {
  const name = uniqueName("fuzzplan");
  const seg = Segment.create(name, TEMPLATE_OPTIONS);
  try {
    const t = buildTemplate(seg, FUZZ_KINDS);
    const rnd = prng(SEED);
    const fields = fieldsOf(t);
    // Two cases that must fail, to show the checks work: a stray write into a gap, and a TypeError.
    const cases: Plan["cases"] = [
      {
        id: 0,
        target: "selftest-canary",
        at: TEMPLATE_OPTIONS.size - 4,
        width: 4,
        v: 0xa5a5a5a5,
        field: "selftest",
        fcls: "selftest",
      },
      {
        id: 1,
        target: "selftest-raw",
        at: TEMPLATE_OPTIONS.size - 4,
        width: 4,
        v: 0xa5a5a5a5,
        field: "selftest",
        fcls: "selftest",
      },
    ];
    let id = 2;
    for (const f of fields) {
      for (const v of valuesFor(f, read(t.bytes, f), rnd)) {
        cases.push({ id: id++, target: f.target, at: f.at, width: f.width, v, field: f.name, fcls: f.cls });
      }
    }
    // Paired: the entry's and the block header's capacity (checked against each other) set alike.
    for (const b of t.blocks) {
      const target = b.label === "condvar.m" ? "condvar" : b.label;
      for (const v of [0, 1, b.capacity - 1, b.capacity + 1, 2 * b.capacity, 2 ** 31, 2 ** 32 - 1]) {
        if (v < 0 || v === b.capacity) continue;
        cases.push({
          id: id++,
          target,
          at: b.entry + E.capacity,
          width: 8,
          v,
          also: [{ at: b.offset + S.capacity, width: 8, v }],
          field: `${b.label}.capacity(entry+header)`,
          fcls: "paired",
        });
      }
    }
    const flips = SOAK ? 20_000 : 1_000;
    for (let i = 0; i < flips; i++) {
      const f = fields[Math.floor(rnd() * fields.length)];
      const at = f.at + Math.floor(rnd() * f.width);
      cases.push({ id: id++, target: f.target, at, x: 1 << Math.floor(rnd() * 8), field: f.name, fcls: "bit-flip" });
    }
    return { cases, hash: t.hash };
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}

/** Runs the corpus through children of `rt`, restarting after a hang or a signal. */
async function runCorpus(rt: Runtime, file: string, cases: readonly Case[]): Promise<Map<number, Outcome>> {
  const total = cases.length;
  const results = new Map<number, Outcome>();
  let next = 0;
  let restarts = 0;
  const retried = new Set<number>();
  while (next < total) {
    const startAt = next;
    const [cmd, argv] = command(rt, decodeURIComponent(WORKER.pathname), [file, String(startAt)]);
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let partial = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    let hung = false;
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = true;
        child.kill("SIGKILL");
      }, ms);
    };
    arm(30_000); // startup and template build
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (d: string) => {
      partial += d;
      const lines = partial.split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        const m = /^R (\d+) (\w+) (\d+) ?(.*)$/.exec(line);
        if (!m) continue;
        const id = Number(m[1]);
        results.set(id, { cls: m[2] as Outcome["cls"], detail: m[4] });
        next = id + 1;
        arm(HANG_MS);
      }
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on("close", (c, s) => resolve([c, s]))
    );
    clearTimeout(timer);
    if (hung || signal) {
      // A killed child leaves its template and the case it was on in /dev/shm.
      Segment.unlink(`shmkit-fuzz-t-${child.pid}`);
      if (next < total) Segment.unlink(`shmkit-fuzz-${child.pid}-${cases[next].id}`);
    }
    if (next >= total) break;
    if (hung && !retried.has(next)) {
      // Once more in a fresh child: on 2 shared cores a case's bounded waits can be
      // descheduled past HANG_MS. Mutations are deterministic, so a real hang hangs again.
      retried.add(next);
    } else if (hung || signal) {
      results.set(next, { cls: hung ? "hang" : "signal", detail: hung ? `no report in ${HANG_MS} ms, twice` : String(signal) });
      next++;
    } else if (next === startAt) {
      throw new Error(`${rt} fuzz worker exited with ${code} before any case\n${stderr}`);
    }
    if (++restarts > 2_000) throw new Error("too many worker restarts");
  }
  if (retried.size > 0) {
    console.log(`fuzz ${rt}: ${retried.size} case(s) re-run after no report in ${HANG_MS} ms: ${[...retried].join(", ")}`);
  }
  return results;
}

function summarise(rt: Runtime, p: Plan, results: Map<number, Outcome>): string[] {
  const byClass = new Map<string, Record<string, number>>();
  const failures: string[] = [];
  for (const c of p.cases) {
    const o = results.get(c.id) ?? { cls: "hang", detail: "no result" };
    const row = byClass.get(c.fcls) ?? {};
    row[o.cls] = (row[o.cls] ?? 0) + 1;
    byClass.set(c.fcls, row);
    if (o.cls !== "ok" && o.cls !== "typed") {
      const what = c.x !== undefined ? `xor 0x${c.x.toString(16)} at byte ${c.at}` : `= ${c.v}`;
      failures.push(`${c.target}\t#${c.id} ${c.field} ${what}\t${o.cls}\t${o.detail}`);
    }
  }
  const typedCodes: Record<string, number> = {};
  for (const o of results.values()) {
    if (o.cls === "typed") { for (const code of o.detail.split(",")) typedCodes[code] = (typedCodes[code] ?? 0) + 1; }
  }
  console.log(`fuzz ${rt}: seed ${SEED}, ${p.cases.length} cases${SOAK ? " (soak)" : ""}`);
  for (const [cls, row] of byClass) console.log(`  ${cls.padEnd(14)} ${JSON.stringify(row)}`);
  console.log(`  typed codes (per case, each code once) ${JSON.stringify(typedCodes)}`);
  const report = env("SHMKIT_FUZZ_REPORT");
  if (report) {
    writeFileSync(
      `${report}.${rt}.json`,
      JSON.stringify({ seed: SEED, cases: p.cases.length, byClass: Object.fromEntries(byClass), typedCodes, failures }, null, 1),
    );
  }
  return failures;
}

// Each runner fuzzes with children of its own runtime (scripts/test.sh runs both runners); soak uses both from either.
for (const rt of (SOAK ? ["deno", "bun"] : [runtime]) as Runtime[]) {
  test(
    `fuzz: mutated segments opened and exercised by a ${rt} child → ok or a typed ShmError, never a hang, signal, raw error or stray write`,
    async () => {
      const p = plan();
      const dir = mkdtempSync(join(tmpdir(), "shmkit-fuzz-"));
      try {
        const file = join(dir, "corpus.json");
        writeFileSync(file, JSON.stringify({ kinds: FUZZ_KINDS, hash: p.hash, cases: p.cases }));
        const results = await runCorpus(rt, file, p.cases);
        assert.equal(results.get(0)?.cls, "canary", "the stray-write self-test was not caught");
        assert.equal(results.get(1)?.cls, "raw", "the raw-error self-test was not caught");
        const failures = summarise(rt, p, results).filter((f) => !f.startsWith("selftest"));
        assert.deepEqual(failures, [], `seed ${SEED}: ${failures.length} failing cases`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    { timeout: SOAK ? 3_600_000 : 600_000 },
  );
}
