/**
 * Web Worker for tests/exits.test.ts: creates a segment with unlinkOnLastClose and
 * replies whether exit hooks were installed in this thread (they must not be), then closes it.
 * Message: { name }.
 */
import { exitHooksInstalled } from "../../ffi/exit.ts";
import { Segment } from "../../mod.ts";

// deno-lint-ignore no-explicit-any
const w = self as any;
w.onmessage = (e: MessageEvent) => {
  const seg = Segment.create(e.data.name, { size: 1 << 16, unlinkOnLastClose: true });
  const installed = exitHooksInstalled();
  seg.close();
  w.postMessage({ installed });
};
