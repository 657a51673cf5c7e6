/**
 * Base of every structure handle: knows its placement and checks, on each
 * operation, that neither the handle nor its segment was closed.
 */
import { ShmError } from "../errors.ts";
import { handleSummary, INSPECT_DENO, INSPECT_NODE } from "./inspect.ts";
import { CLOSED_MEMORY, type Memory } from "./memory.ts";
import type { Placement } from "./structure.ts";

/**
 * Implemented by Segment: handles register so that close/remove can close them.
 *
 * @example
 * ```ts
 * import { Segment, type HandleOwner } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-owner-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const owner: HandleOwner = seg; // a Segment is what every handle belongs to
 * assert.equal(owner.memory.size, 1 << 20);
 * ```
 */
export interface HandleOwner {
  /** The segment's views, shared by every handle of the segment. */
  readonly memory: Memory;
  /** Registers a handle so that closing the segment closes it. */
  track(h: Handle): void;
  /** Forgets a handle that was closed on its own. */
  untrack(h: Handle): void;
}

/**
 * Base of every structure handle: its `name`, `closed`, `close()` and `using` support.
 *
 * @example
 * ```ts
 * import { Queue, Segment, SharedMap, string, type Handle, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-handle-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const handles: Handle[] = [Queue.create(seg, "jobs", u32, 16), SharedMap.create(seg, "users", string(8), u32, 16)];
 * assert.deepEqual(handles.map((h) => h.name), ["jobs", "users"]);
 * for (const h of handles) h.close(); // the structures stay in the segment
 * assert.ok(handles.every((h) => h.closed) && seg.has("jobs"));
 * ```
 */
export abstract class Handle {
  /** The segment's views, or CLOSED_MEMORY once this handle is closed. */
  protected m: Memory;
  /** Structure name in the segment. */
  readonly name: string;
  /** Byte offset of the structure's block. */
  readonly offset: number;
  readonly #owner: HandleOwner;
  readonly #capacity: number;

  /** Registers the new handle with its segment. */
  constructor(owner: HandleOwner, p: Placement) {
    this.m = owner.memory;
    this.#capacity = p.capacity;
    this.name = p.name;
    this.offset = p.offset;
    this.#owner = owner;
    owner.track(this);
  }

  /** True after close(), after the segment closed, or after the structure was removed here. */
  get closed(): boolean {
    return this.m.closed;
  }

  /** Releases this handle (the structure stays in the segment). Idempotent. */
  close(): void {
    if (this.m === CLOSED_MEMORY) return;
    this.m = CLOSED_MEMORY;
    this.#owner.untrack(this);
  }

  /** Closes the handle when a `using` block ends. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** A one-line summary: `Queue<u32> "jobs" { capacity: 1024, size: 3 }`. */
  toString(): string {
    return handleSummary(this, this.name, this.#capacity);
  }

  /** What `Deno.inspect` / `console.log` prints in Deno: the summary, not the mapped memory. */
  [INSPECT_DENO](): string {
    return this.toString();
  }

  /** What `Bun.inspect` / `console.log` prints in Bun (and node:util.inspect): the summary. */
  [INSPECT_NODE](): string {
    return this.toString();
  }

  /** The memory to use, or a CLOSED error. Every operation starts with this. */
  protected mem(): Memory {
    const m = this.m;
    if (m.closed) throw closedError(this.name);
    return m;
  }
}

export function closedError(name: string): ShmError {
  return new ShmError("CLOSED", `"${name}" is closed (its handle, its segment, or the structure was removed)`);
}
