/**
 * Mapping a segment's file descriptor into memory and taking it down again, so that
 * nothing can touch the pages after the unmap.
 */
import type { Native } from "../../ffi/mod.ts";
import { osError } from "../errors.ts";
import { Memory } from "./memory.ts";

/** Maps an open fd; closes the fd either way. */
export function mapFd(n: Native, fd: number, size: number, name: string): Memory {
  const address = n.map(fd, size);
  n.close(fd);
  if (address < 0) throw osError(address, `mapping segment "${name}" (${size} bytes)`);
  return new Memory(address, n.view(address, size));
}

export function unmap(n: Native, m: Memory): void {
  m.closed = true;
  try {
    // Detach the buffer first: a typed array a user kept from view() then reads as
    // empty instead of touching an unmapped page.
    (m.buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer }).transfer?.(0);
  } catch {
    // Not detachable on this runtime: handles still refuse to use it (m.closed).
  }
  n.unmap(m.base, m.size);
}
