/** Structure kind tags stored in the name table and in each structure's header. */
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

/** Human name of a kind tag, for messages and `list()`. */
export function kindName(tag: number): string {
  return NAMES.get(tag) ?? `unknown kind ${tag}`;
}
