/**
 * Structure kind tags stored in the name table and in each structure's header.
 *
 * @example
 * ```ts
 * import { Kind, Segment, Stack, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-kind-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * Stack.create(seg, "undo", u32, 64);
 * assert.equal(seg.find("undo")?.kind, Kind.STACK);
 * ```
 */
export const Kind = {
  ARRAY: 1,
  ATOMIC: 2,
  QUEUE: 3,
  SPSC_QUEUE: 4,
  STACK: 5,
  POOL: 6,
  RING: 7,
  BROADCAST: 8,
  VECTOR: 9,
  MAP: 10,
  SET: 11,
  MUTEX: 20,
  RWLOCK: 21,
  SEMAPHORE: 22,
  BARRIER: 23,
  LATCH: 24,
  ONCE: 25,
  EVENT: 26,
  CONDVAR: 27,
} as const;

export type KindTag = (typeof Kind)[keyof typeof Kind];

const NAMES = new Map<number, string>(Object.entries(Kind).map(([k, v]) => [v, k.toLowerCase()]));

/**
 * Human name of a kind tag, for messages and `list()`.
 *
 * @example
 * ```ts
 * import { Kind, kindName } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * assert.equal(kindName(Kind.SPSC_QUEUE), "spsc_queue");
 * ```
 */
export function kindName(tag: number): string {
  return NAMES.get(tag) ?? `unknown kind ${tag}`;
}
