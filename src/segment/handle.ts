/**
 * Base of every structure handle: knows its placement and checks, on each
 * operation, that neither the handle nor its segment was closed.
 */
import { ShmError } from "../errors.ts";
import { handleSummary, INSPECT_DENO, INSPECT_NODE } from "./inspect.ts";
import { CLOSED_MEMORY, type Memory } from "./memory.ts";
import type { Placement } from "./structure.ts";

/** Implemented by Segment: handles register so that close/remove can close them. */
export interface HandleOwner {
  readonly memory: Memory;
  track(h: Handle): void;
  untrack(h: Handle): void;
}

export abstract class Handle {
  /** The segment's views, or CLOSED_MEMORY once this handle is closed. */
  protected m: Memory;
  /** Structure name in the segment. */
  readonly name: string;
  /** Byte offset of the structure's block. */
  readonly offset: number;
  readonly #owner: HandleOwner;
  readonly #capacity: number;

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
