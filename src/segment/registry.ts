/**
 * The process registry: which threads of which processes have the segment open, as
 * (pid, tid, start time) slots, so that a process killed without closing, or a Worker
 * terminated without closing, does not count forever. Called with the metadata lock
 * held.
 *
 * A slot is 16 bytes: pid u32 @0, tid u32 @4 (0 or the pid: the whole process; any
 * other value: one thread of it, a Worker), start u64 @8 (the process's start time).
 * A slot is live while its process is (pid + start time) and, for a thread slot,
 * while /proc/<pid>/task/<tid> exists and is not a zombie. Deno and Bun run each
 * Worker on its own OS thread and end it when the Worker is terminated or exits
 * (measured: within 10 ms), so a terminated Worker's slot is swept.
 */
import { native } from "../../ffi/mod.ts";
import { ShmError } from "../errors.ts";
import { REGISTRY_OFFSET, REGISTRY_SLOT } from "./format.ts";
import type { Memory } from "./memory.ts";
import { isAlive, me } from "./process.ts";

function slotAt(i: number): number {
  return REGISTRY_OFFSET + i * REGISTRY_SLOT;
}

let selfTid: number | undefined;
/** The calling thread's kernel tid (per isolate: each Worker loads its own copy of this module). */
export function myTid(): number {
  return selfTid ??= native().gettid();
}

/** True while the thread `tid` of the live process `pid` still exists (tid 0 or pid: the process). */
function threadAlive(pid: number, tid: number): boolean {
  if (tid === 0 || tid === pid) return true;
  if (!(tid > 0 && tid <= 0x7fffffff)) return false;
  return native().threadStartTime(pid, tid) >= 0;
}

/** Whether the registry slot at byte offset `at` names a live process (and, for a thread slot, a live thread). */
export function slotAlive(m: Memory, at: number): boolean {
  const pid = m.u32[at >> 2];
  return isAlive(pid, m.getU64(at + 8)) && threadAlive(pid, m.u32[(at + 4) >> 2]);
}

function clear(m: Memory, at: number): void {
  m.setU64(at + 8, 0);
  m.u32[(at + 4) >> 2] = 0;
  m.u32[at >> 2] = 0;
}

function sweep(m: Memory, slots: number): void {
  for (let i = 0; i < slots; i++) {
    const at = slotAt(i);
    if (m.u32[at >> 2] !== 0 && !slotAlive(m, at)) clear(m, at);
  }
}

/**
 * Records this thread; returns its slot index. Full registry → FULL. `slots` is the
 * validated geometry's maxProcesses, never re-read from the (untrusted) header.
 */
export function attach(m: Memory, slots: number): number {
  const self = me();
  const tid = myTid();
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < slots; i++) {
      const at = slotAt(i);
      if (m.u32[at >> 2] === 0) {
        m.setU64(at + 8, self.start);
        m.u32[(at + 4) >> 2] = tid === self.pid ? 0 : tid;
        m.u32[at >> 2] = self.pid;
        return i;
      }
    }
    sweep(m, slots); // make room by dropping processes and threads that died without closing
  }
  throw new ShmError(
    "FULL",
    `process registry is full: ${slots} live processes or Workers have this segment open (maxProcesses)`,
  );
}

export function detach(m: Memory, slot: number): void {
  const at = slotAt(slot);
  if (m.u32[at >> 2] === me().pid) clear(m, at);
}

/** Live attachments: one per process or Worker that has the segment open (dead ones are swept). */
export function attachments(m: Memory, slots: number): { pid: number; tid: number }[] {
  sweep(m, slots);
  const out: { pid: number; tid: number }[] = [];
  for (let i = 0; i < slots; i++) {
    const at = slotAt(i);
    const pid = m.u32[at >> 2];
    if (pid !== 0) out.push({ pid, tid: m.u32[(at + 4) >> 2] || pid });
  }
  return out;
}

/** Pids of live attached processes, each once (`slots`: the validated maxProcesses). */
export function attachedPids(m: Memory, slots: number): number[] {
  return [...new Set(attachments(m, slots).map((a) => a.pid))];
}
