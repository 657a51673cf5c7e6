/**
 * SharedMap get / set / delete at 50% and 90% load factor, against a JS Map holding the
 * same keys in the same run (the ratio is the result; this machine is shared and noisy).
 *
 *   deno run -A bench/map.bench.ts
 *   bun bench/map.bench.ts
 *
 * Keys are random u32s visited in a shuffled order (so neither structure gets the
 * locality of sequential keys); values are f64. The table has 2^16 slots.
 */
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { f64, Segment, SharedMap, u32 } from "../mod.ts";
import { benchSegmentName, runtime } from "./common.ts";

const SLOTS = 1 << 16;
const segName = benchSegmentName("map");
try {
  Segment.unlink(segName);
} catch { /* not there */ }
const seg = Segment.create(segName, { size: 16 << 20 });
Segment.unlink(segName); // the name is not needed once mapped

let seed = 0x9e3779b9;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}

console.log(`SharedMap vs Map, ${runtime}, ${SLOTS} slots, u32 -> f64`);

const checks: (() => void)[] = [];

for (const load of [0.5, 0.9]) {
  const n = Math.floor(SLOTS * load);
  const m = SharedMap.create(seg, `m${load}`, u32, f64, n, { slots: SLOTS });
  const js = new Map<number, number>();
  const unique = new Set<number>();
  while (unique.size < n) unique.add(rnd());
  const keys = Uint32Array.from(unique);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = rnd() % (i + 1);
    [keys[i], keys[j]] = [keys[j], keys[i]];
  }
  for (const k of keys) {
    m.set(k, k);
    js.set(k, k);
  }
  // Keys that are certainly absent (for misses).
  const absent = new Uint32Array(4096);
  for (let i = 0; i < absent.length;) {
    const k = rnd();
    if (!unique.has(k)) absent[i++] = k;
  }
  const st = m.stats();
  const pct = Math.round(load * 100);
  console.log(`load ${pct}%: ${n} keys, longest probe ${st.maxProbe}, probe limit ${st.probeLimit}`);

  let i = 0;
  group(`get (hit) at ${pct}% load`, () => {
    summary(() => {
      bench("Map.get", () => do_not_optimize(js.get(keys[i = (i + 1) % n])));
      bench("SharedMap.get", () => do_not_optimize(m.get(keys[i = (i + 1) % n])));
    });
  });
  let a = 0;
  group(`get (miss) at ${pct}% load`, () => {
    summary(() => {
      bench("Map.get", () => do_not_optimize(js.get(absent[a = (a + 1) & 4095])));
      bench("SharedMap.get", () => do_not_optimize(m.get(absent[a = (a + 1) & 4095])));
    });
  });
  let v = 0;
  group(`set (replace an existing key) at ${pct}% load`, () => {
    summary(() => {
      bench("Map.set", () => {
        js.set(keys[i = (i + 1) % n], v++);
      });
      bench("SharedMap.set", () => {
        m.set(keys[i = (i + 1) % n], v++);
      });
    });
  });
  group(`update (read-modify-write under the key's lock) at ${pct}% load`, () => {
    summary(() => {
      bench("Map get+set", () => {
        const k = keys[i = (i + 1) % n];
        js.set(k, js.get(k)! + 1);
      });
      bench("SharedMap.update", () => {
        m.update(keys[i = (i + 1) % n], (x) => x! + 1);
      });
    });
  });
  // delete then re-insert the same key: the load stays constant, and the insert
  // exercises the new-key path (insert lock, tombstone reuse).
  group(`delete + insert at ${pct}% load`, () => {
    summary(() => {
      bench("Map.delete+set", () => {
        const k = keys[i = (i + 1) % n];
        js.delete(k);
        js.set(k, k);
      });
      bench("SharedMap.delete+set", () => {
        const k = keys[i = (i + 1) % n];
        m.delete(k);
        m.set(k, k);
      });
    });
  });
  checks.push(() => {
    // Prove the loops did what they claim: every key still there, counts unchanged.
    if (m.size !== n || js.size !== n) throw new Error(`size changed: ${m.size} / ${js.size}, expected ${n}`);
    for (let j = 0; j < n; j += 97) if (m.get(keys[j]) === undefined) throw new Error(`key ${keys[j]} lost`);
    const after = m.stats();
    console.log(`after, load ${pct}%: ${after.ready} keys, ${after.tombstones} tombstones, probe limit ${after.probeLimit}`);
  });
}

await run();
for (const c of checks) c();
seg.close();
