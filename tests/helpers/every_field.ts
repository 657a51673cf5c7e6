/**
 * A struct with a field of every element kind a struct can hold (numbers of each
 * width, bool, bigint, the 64-bit "as number" kinds, a fixed string, a nested struct,
 * an array), and message k of it: for the tests that check a struct path moves every
 * kind as `write` / `read` do (tests/struct_queue.test.ts, tests/staging.test.ts).
 */
import { array, bool, f32, f64, i16, i64, i64AsNumber, string, struct, u16, u32, u64, u64AsNumber, u8 } from "../../mod.ts";

export const EveryField = struct({
  u: u8,
  i: i16,
  w: u32,
  f: f32,
  d: f64,
  ok: bool,
  big: i64,
  ubig: u64,
  n: u64AsNumber,
  sn: i64AsNumber,
  name: string(8),
  inner: struct({ a: u8, b: f64 }),
  xs: array(u16, 3),
});
export type EveryValue = ReturnType<typeof EveryField.read>;

/** Message k: every field a different function of k, each exact in its kind. */
export const everyValue = (k: number): EveryValue => ({
  u: 200 + k,
  i: -300 - k,
  w: 4_000_000_000 + k,
  f: 1.5 + k,
  d: -k - 0.125,
  ok: k % 2 === 0,
  big: -(2n ** 62n) - BigInt(k),
  ubig: 2n ** 63n + BigInt(k),
  n: 2 ** 50 + k,
  sn: -(2 ** 51) - k,
  name: `n${k}`,
  inner: { a: k, b: k / 4 },
  xs: [k, k + 1, 65535],
});

/** The field names, in order. */
export const EVERY_KEY = Object.keys(everyValue(0)) as (keyof EveryValue)[];
