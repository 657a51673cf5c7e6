/** Process identity and liveness, as (pid, start time) pairs that survive pid reuse. */
import { native } from "../../ffi/mod.ts";

let self: { pid: number; start: number } | undefined;

/** This process's pid and start time (cached). */
export function me(): { pid: number; start: number } {
  if (!self) {
    const n = native();
    const pid = n.getpid();
    self = { pid, start: n.processStartTime(pid) };
  }
  return self;
}

/**
 * True while a process with this pid exists, is not a zombie, and (when `start` is
 * given and non-zero) started at that time, so a recycled pid is not mistaken for it.
 */
export function isAlive(pid: number, start = 0): boolean {
  // Pids come from shared memory (untrusted): one beyond i32 would make the FFI call throw.
  if (!(pid > 0 && pid <= 0x7fffffff)) return false;
  const t = native().processStartTime(pid);
  if (t < 0) return false;
  return start === 0 || t === start;
}
