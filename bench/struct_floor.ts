/**
 * Same-thread parts of a 64-byte struct message (the `spsc-struct64` / `mpmc-struct64`
 * rows, docs/BENCHMARKS.md "Where the bars are out of reach"): one process pushes the
 * bench's 64-byte struct (two u32, seven f64) into an SpscQueue and pops it into one
 * reused object with tryPopInto, 1M times, and with tryPopView (getters over the popped
 * bytes, no object filled); a producer that builds every message, into a reused object
 * it pushes or into the staging struct it pushes with tryPushStaged (setters into the
 * handle's private block), popped with tryPopView; then the JavaScript parts alone: the
 * struct's generated `write` (what a push runs before its native call), its `readInto`
 * (what tryPopInto runs after it) into a `create()` target and into a literal one, and
 * the same `readInto` written by hand. On Deno the literal row shows what a literal with
 * the struct's field names costs (docs/DECISIONS.md "Struct values"); the hand-written
 * row, that the generated code costs nothing of its own. Every loop folds what it read into a checksum that is checked. Best of 6 rounds.
 *
 *   deno run -A bench/struct_floor.ts     bun bench/struct_floor.ts
 *
 * Prints one line per row and one JSON line.
 */
import { f64, Segment, SpscQueue, struct, u32 } from "../mod.ts";
import { structReadInto } from "../src/segment/composite.ts";

const Msg = struct({ id: u32, flags: u32, t: f64, x: f64, y: f64, z: f64, vx: f64, vy: f64, vz: f64 });
type M = { id: number; flags: number; t: number; x: number; y: number; z: number; vx: number; vy: number; vz: number };
const msg = (i: number): M => ({
  id: i,
  flags: i ^ 5,
  t: i + 0.25,
  x: -i - 0.5,
  y: i * 2.5,
  z: i / 8,
  vx: i + 1.5,
  vy: i - 1.5,
  vz: i * 3.5,
});
// Message `i & 1023` (so the filled rows' checksum is known), written field by field.
// Each row writes it in its own code: JavaScriptCore shares one function's inline caches
// between its closures, so one fill for a plain object and a view would be polymorphic.
const sum = (m: M) => m.id + m.flags + m.t + m.x + m.y + m.z + m.vx + m.vy + m.vz;
// The same for the view, apart: one shape per call site, as a consumer loop has.
const sumView = (m: Readonly<M>) => m.id + m.flags + m.t + m.x + m.y + m.z + m.vx + m.vy + m.vz;

const seg = Segment.create("sfloor-" + Math.random().toString(36).slice(2, 8), { size: 1 << 22, unlinkOnLastClose: true });
const N = 1_000_000, AT = 64;
const q = SpscQueue.create(seg, "q", Msg, 1024);
const readInto = structReadInto(Msg)!;
const mem = seg.memory, u = mem.u32, f = mem.f64;
// The targets and the refilled objects come from Msg.create(): an object literal with
// Msg's field names in its order would share V8's hidden class with the struct() call's
// own literal, whose fields hold objects, and box every double stored into it (the
// "literal" row shows that cost; docs/DECISIONS.md "Struct values").
const src = msg(7), dst = Msg.create(), literal: M = { id: 0, flags: 0, t: 0, x: 0, y: 0, z: 0, vx: 0, vy: 0, vz: 0 };
const want = sum(src) * N;
let wantFilled = 0;
for (let i = 0; i < N; i++) wantFilled += sum(msg(i & 1023));

const rows: [string, () => number][] = [
  ["SpscQueue tryPush+tryPopInto", () => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      q.tryPush(src);
      s += sum(q.tryPopInto(dst)!);
    }
    return s;
  }],
  ["SpscQueue tryPush+tryPopView", () => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      q.tryPush(src);
      s += sumView(q.tryPopView()!);
    }
    return s;
  }],
  // A producer builds each message: into a reused object it then pushes, or into the
  // handle's staging view (setters into private memory) it pushes by bytes.
  ["fill object+tryPush+tryPopView", () => {
    let s = 0;
    const o = Msg.create();
    for (let i = 0; i < N; i++) {
      const k = i & 1023;
      o.id = k, o.flags = k ^ 5, o.t = k + 0.25, o.x = -k - 0.5, o.y = k * 2.5, o.z = k / 8;
      o.vx = k + 1.5, o.vy = k - 1.5, o.vz = k * 3.5;
      q.tryPush(o);
      s += sumView(q.tryPopView()!);
    }
    return s;
  }],
  ["fill staging+tryPushStaged+tryPopView", () => {
    let s = 0;
    const o = q.staging();
    for (let i = 0; i < N; i++) {
      const k = i & 1023;
      o.id = k, o.flags = k ^ 5, o.t = k + 0.25, o.x = -k - 0.5, o.y = k * 2.5, o.z = k / 8;
      o.vx = k + 1.5, o.vy = k - 1.5, o.vz = k * 3.5;
      q.tryPushStaged();
      s += sumView(q.tryPopView()!);
    }
    return s;
  }],
  ["struct write", () => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      Msg.write(mem, AT, src);
      s += f[(AT >> 3) + 7]; // vz
    }
    return s === src.vz * N ? want : s;
  }],
  ["struct readInto", () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += sum(readInto(mem, AT, dst));
    return s;
  }],
  ["struct readInto a literal", () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += sum(readInto(mem, AT, literal));
    return s;
  }],
  ["readInto by hand", () => {
    let s = 0;
    const w = AT >> 2, d = AT >> 3;
    for (let i = 0; i < N; i++) {
      dst.id = u[w], dst.flags = u[w + 1], dst.t = f[d + 1], dst.x = f[d + 2], dst.y = f[d + 3];
      dst.z = f[d + 4], dst.vx = f[d + 5], dst.vy = f[d + 6], dst.vz = f[d + 7];
      s += sum(dst);
    }
    return s;
  }],
];

Msg.write(mem, AT, src);
const out: Record<string, number> = {};
for (const [name, run] of rows) {
  let best = Infinity;
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    const s = run();
    const ns = ((performance.now() - t0) * 1e6) / N;
    const expect = name.startsWith("fill") ? wantFilled : want;
    if (s !== expect) throw new Error(`${name}: checksum ${s}, want ${expect}`);
    best = Math.min(best, ns);
  }
  out[name] = Number(best.toFixed(2));
  console.log(`${name.padEnd(30)} ${best.toFixed(2)} ns`);
}
const runtime = "Deno" in globalThis ? "deno" : "bun";
console.log(JSON.stringify({ runtime, ...out }));
seg.close();
