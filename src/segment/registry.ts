/**
 * The process registry: which processes have the segment open, as (pid, start time)
 * slots, so that a process killed without closing does not count forever. Called
 * with the metadata lock held.
 */
import { ShmError } from "../errors.ts";
import { REGISTRY_OFFSET, REGISTRY_SLOT } from "./format.ts";
import type { Memory } from "./memory.ts";
import { isAlive, me } from "./process.ts";

function slotAt(i: number): number {
  return REGISTRY_OFFSET + i * REGISTRY_SLOT;
}

function sweep(m: Memory, slots: number): void {
  for (let i = 0; i < slots; i++) {
    const at = slotAt(i);
    const pid = m.u32[at >> 2];
    if (pid !== 0 && !isAlive(pid, m.getU64(at + 8))) {
      m.setU64(at + 8, 0);
      m.u32[at >> 2] = 0;
    }
  }
}

/**
 * Records this process; returns its slot index. Full registry → FULL. `slots` is the
 * validated geometry's maxProcesses, never re-read from the (untrusted) header.
 */
export function attach(m: Memory, slots: number): number {
  const self = me();
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < slots; i++) {
      const at = slotAt(i);
      if (m.u32[at >> 2] === 0) {
        m.setU64(at + 8, self.start);
        m.u32[at >> 2] = self.pid;
        return i;
      }
    }
    sweep(m, slots); // make room by dropping processes that died without closing
  }
  throw new ShmError("FULL", `process registry is full: ${slots} live processes have this segment open (maxProcesses)`);
}

export function detach(m: Memory, slot: number): void {
  const at = slotAt(slot);
  if (m.u32[at >> 2] === me().pid) {
    m.setU64(at + 8, 0);
    m.u32[at >> 2] = 0;
  }
}

/** Pids of live attached processes (`slots`: the validated maxProcesses). */
export function attachedPids(m: Memory, slots: number): number[] {
  sweep(m, slots);
  const pids: number[] = [];
  for (let i = 0; i < slots; i++) {
    const pid = m.u32[slotAt(i) >> 2];
    if (pid !== 0) pids.push(pid);
  }
  return pids;
}
