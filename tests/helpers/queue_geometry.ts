/**
 * Where a Queue's words lie in its segment (docs/FORMAT.md "queue"), for tests that
 * play a dead process by writing the counters directly.
 */
import type { Queue, Segment } from "../../mod.ts";

/** Byte offsets of the control block, the slots, their geometry, and the i32 indices of the two counters. */
export function queueGeometry(seg: Segment, q: Queue<unknown>) {
  const control = q.offset + 64, data = q.offset + seg.memory.u32[(q.offset + 12) >> 2];
  let ring = 2;
  while (ring < q.capacity) ring *= 2;
  const a = Math.max(4, q.type.size), stride = Math.ceil((a + q.type.size) / a) * a;
  return { control, data, ring, stride, elemOffset: a, enq: control >> 2, deq: (control + 64) >> 2 };
}
