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

/**
 * Takes the mapping down. Every handle refuses it from now on (`closed`); the segment's
 * own buffer and the view buffers handed out are detached first, so typed arrays a
 * user kept read as empty instead of touching an unmapped page. If a view buffer was
 * transferred away (to a Worker, or by `transfer()`), its new owner could still read
 * it: then the pages stay mapped (until the process exits) rather than risk a fault.
 * Returns true when the pages were unmapped. Never throws.
 */
export function unmap(n: Native, m: Memory): boolean {
  m.closed = true;
  const safe = m.detachViews();
  try {
    (m.buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer }).transfer?.(0);
  } catch {
    // Not detachable on this runtime: handles still refuse to use it (m.closed).
  }
  if (!safe) return false;
  n.unmap(m.base, m.size);
  return true;
}
