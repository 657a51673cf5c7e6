/**
 * The check every many-producer many-consumer stream test ends with: the values 0 …
 * total − 1 went in once each and came out once each, shown by counts and sums.
 */
import assert from "node:assert/strict";
import { lastJson } from "./procs.ts";

/** What a producer (`pushed`) or a consumer (`count`) worker prints last: how many values, their sum, waits that hit a deadline. */
export interface Tally {
  readonly pushed?: number;
  readonly count?: number;
  readonly sum: number;
  readonly stalls?: number;
}

/**
 * Parses the workers' outputs (the first `producers` are producers, the rest consumers)
 * and asserts that together they pushed and popped exactly `total` values whose sum is
 * that of 0 … total − 1, so nothing was lost or delivered twice. Returns the producers'
 * and the consumers' tallies for further checks.
 */
export function assertExactlyOnce(outputs: string[], producers: number, total: number): { pushed: Tally[]; popped: Tally[] } {
  const js = outputs.map((o) => lastJson<Tally>(o));
  const pushed = js.slice(0, producers), popped = js.slice(producers);
  const sum = (ts: Tally[], f: (t: Tally) => number) => ts.reduce((s, t) => s + f(t), 0);
  assert.equal(sum(pushed, (t) => t.pushed!), total, "values pushed");
  assert.equal(sum(popped, (t) => t.count!), total, "values popped");
  const want = (total * (total - 1)) / 2;
  assert.equal(sum(pushed, (t) => t.sum), want, "sum of the values pushed");
  assert.equal(sum(popped, (t) => t.sum), want, "sum of the values popped: every value popped exactly once");
  return { pushed, popped };
}
