/**
 * Child process for tests/map.test.ts and tests/set.test.ts (runs under Deno or Bun).
 * Usage: map_worker.ts <mode> <segment> <structure> [args...]; prints one JSON line.
 */
import { f64, i32, Segment, SharedMap, SharedSet, struct, u32 } from "../../mod.ts";
import { joinStartBarrier } from "../helpers/barrier.ts";
import { args } from "../helpers/worker.ts";

const [mode, segName, name, ...rest] = args;
const nums = rest.map(Number);

/** Value type of the write tests: which writer, which round. */
export const Tag = struct({ writer: u32, round: u32 });
/** Value type of the torn-read test: every field derives from one number x. */
export const Quad = struct({ a: f64, b: f64, c: i32, d: f64 });
export const quadOf = (x: number) => ({ a: x, b: x * 2, c: x | 0, d: -x });

const seg = Segment.open(segName);
let t0 = performance.now();
const out = (v: Record<string, unknown>) => console.log(JSON.stringify({ ...v, ms: Math.round(performance.now() - t0) }));

// Start barrier: when the parent made a "go" array [parties, arrived], wait until every
// worker has started, so that the workers really run at the same time.
if (joinStartBarrier(seg)) t0 = performance.now();

switch (mode) {
  case "disjoint": {
    // Writer w owns keys [start, end): sets them over `rounds` rounds, deleting and
    // re-inserting some, so its last op on every key is a set in the last round.
    const [w, start, end, rounds] = nums;
    const m = SharedMap.open(seg, name, u32, Tag);
    for (let r = 0; r < rounds; r++) {
      for (let k = start; k < end; k++) {
        if (r < rounds - 1 && (k + r) % 5 === 0) m.delete(k);
        else if ((k + r) % 3 === 0) m.update(k, () => ({ writer: w, round: r }));
        else m.set(k, { writer: w, round: r });
      }
    }
    out({ ok: true });
    break;
  }
  case "overlap": {
    // Every writer writes every key of [0, keys): set, insert, update and delete mixed;
    // the last op of every writer on every key is a set in the last round.
    const [w, keys, rounds] = nums;
    const m = SharedMap.open(seg, name, u32, Tag);
    let inserted = 0;
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < keys; j++) {
        const k = (j * 7 + w * 13) % keys; // each writer walks the keys in another order
        const op = (k + r + w) % 4;
        if (r === rounds - 1 || op === 0) m.set(k, { writer: w, round: r });
        else if (op === 1) m.delete(k);
        else if (op === 2) inserted += m.insert(k, { writer: w, round: r }) ? 1 : 0;
        else m.update(k, (old) => (old === undefined ? undefined : { writer: w, round: r }));
      }
    }
    out({ ok: true, inserted });
    break;
  }
  case "count": {
    // update() as a counter: `iterations` increments spread over keys [0, keys).
    const [keys, iterations, w] = nums;
    const m = SharedMap.open(seg, name, u32, u32);
    for (let i = 0; i < iterations; i++) m.update((i * 31 + w) % keys, (v) => (v ?? 0) + 1);
    out({ ok: true });
    break;
  }
  case "torn-write": {
    // Rewrites keys [0, keys) with quads of increasing x until `ms` pass.
    const [keys, ms, w] = nums;
    const m = SharedMap.open(seg, name, u32, Quad);
    const end = performance.now() + ms;
    let x = w * 1e9;
    let writes = 0;
    while (performance.now() < end) {
      for (let k = 0; k < keys; k++) {
        x += 1.25;
        if (k % 2 === 0) m.set(k, quadOf(x));
        else m.update(k, () => quadOf(x));
        writes++;
      }
    }
    out({ ok: true, writes });
    break;
  }
  case "torn-read": {
    // Reads keys [0, keys) until `ms` pass; counts values whose fields disagree.
    const [keys, ms] = nums;
    const m = SharedMap.open(seg, name, u32, Quad);
    const end = performance.now() + ms;
    let reads = 0, torn = 0, iterated = 0;
    while (performance.now() < end) {
      for (let k = 0; k < keys; k++) {
        const q = m.get(k);
        if (q === undefined) continue;
        reads++;
        if (q.b !== q.a * 2 || q.c !== (q.a | 0) || q.d !== -q.a) torn++;
      }
      for (const [, q] of m.entries()) {
        iterated++;
        if (q.b !== q.a * 2 || q.c !== (q.a | 0) || q.d !== -q.a) torn++;
      }
    }
    out({ ok: true, reads, torn, iterated });
    break;
  }
  case "set-add": {
    // Adds keys [0, keys) to a set, counting how many adds returned true.
    const [keys, w] = nums;
    const s = SharedSet.open(seg, name, u32);
    let won = 0;
    for (let j = 0; j < keys; j++) if (s.add((j * 7 + w * 11) % keys)) won++;
    out({ ok: true, won });
    break;
  }
  case "set-churn": {
    // Adds and deletes keys [0, keys) in rounds; ends with every key added.
    const [keys, rounds, w] = nums;
    const s = SharedSet.open(seg, name, u32);
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < keys; j++) {
        const k = (j * 7 + w) % keys; // 7 is coprime to the key counts used: a permutation
        if (r < rounds - 1 && (k + r + w) % 2 === 0) s.delete(k);
        else s.add(k);
      }
    }
    out({ ok: true });
    break;
  }
  case "hold-update": {
    // Locks key `k` with a set whose value blocks inside the write, with the slot lock
    // held: struct writes read each field exactly once, so the getter of its second
    // field spins forever on that read, and the process waits there to be killed.
    const [k] = nums;
    const m = SharedMap.open(seg, name, u32, Tag);
    let reads = 0;
    const value = {
      writer: 666,
      get round(): number {
        if (++reads === 1) {
          console.log("holding");
          for (;;) { /* killed here, with the slot lock held */ }
        }
        return 666;
      },
    };
    m.set(k, value);
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
seg.close();
