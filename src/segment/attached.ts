/**
 * Whether a pid (or a Worker's thread id) is attached to a segment, read straight from
 * the process registry without the metadata lock (each slot's pid and tid are aligned
 * u32s, so a racing attach or detach is seen either way). Lock words name their holder
 * by pid (the metadata lock: by thread id); a holder that is alive but not attached
 * (pid 1 in a corrupt word, say) is no holder at all.
 */
import { H, MAX_PROCESSES, REGISTRY_OFFSET, REGISTRY_SLOT } from "./format.ts";
import type { Memory } from "./memory.ts";

/**
 * True if `id` is in the registry as a process (slot pid) or a Worker thread (slot
 * tid). Its length comes from the (untrusted) header, clamped to what the mapping and
 * the format allow.
 */
export function isAttached(m: Memory, id: number): boolean {
  const slots = Math.min(m.u32[H.maxProcesses >> 2], MAX_PROCESSES, Math.floor((m.size - REGISTRY_OFFSET) / REGISTRY_SLOT));
  for (let i = 0; i < slots; i++) {
    const at = (REGISTRY_OFFSET + i * REGISTRY_SLOT) >> 2;
    if (m.u32[at] === id || m.u32[at + 1] === id) return true;
  }
  return false;
}
