/**
 * Whether a pid is attached to a segment, read straight from the process registry
 * without the metadata lock (each slot's pid is one aligned u32, so a racing attach or
 * detach is seen either way). Lock words name their holder by pid alone; a holder that
 * is alive but not attached (pid 1 in a corrupt word, say) is no holder at all.
 */
import { H, MAX_PROCESSES, REGISTRY_OFFSET, REGISTRY_SLOT } from "./format.ts";
import type { Memory } from "./memory.ts";

/**
 * True if `pid` is in the registry. Its length comes from the (untrusted) header,
 * clamped to what the mapping and the format allow.
 */
export function isAttached(m: Memory, pid: number): boolean {
  const slots = Math.min(m.u32[H.maxProcesses >> 2], MAX_PROCESSES, Math.floor((m.size - REGISTRY_OFFSET) / REGISTRY_SLOT));
  for (let i = 0; i < slots; i++) if (m.u32[(REGISTRY_OFFSET + i * REGISTRY_SLOT) >> 2] === pid) return true;
  return false;
}
