import assert from "node:assert/strict";
import { f64, Segment, SharedArray } from "../mod.ts";
import { test, uniqueName } from "./harness.ts";

test("smoke: create, write, reopen, read", () => {
  const name = uniqueName("smoke");
  using seg = Segment.create(name, { size: 1 << 16 });
  try {
    const a = SharedArray.create(seg, "xs", f64, 8);
    a.set(7, 1.25);
    using again = Segment.open(name);
    assert.equal(SharedArray.open(again, "xs", f64).get(7), 1.25);
  } finally {
    seg.unlink();
  }
});
