/**
 * Process liveness read straight from /proc with node:fs (no native library), judged
 * exactly as src/segment/process.ts and zig/process.zig judge it: a process is alive
 * while /proc/<pid>/stat exists, its state (field 3) is not Z or X, and its start
 * time (field 22, clock ticks after boot) equals the recorded one.
 */
import { readText } from "./host.ts";

/** A process's start time, "gone" (no such process, or a zombie), or "unknown" (/proc would not say). */
export type StartTime = number | "gone" | "unknown";

/** Parses /proc/<pid>/stat text: the start time, or "gone" for a zombie or unparsable text. */
export function parseStat(text: string): number | "gone" {
  // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
  const close = text.lastIndexOf(")");
  if (close < 0) return "gone";
  const fields = text.slice(close + 1).trim().split(/\s+/);
  const state = fields[0] ?? "";
  if (state === "Z" || state === "X" || state === "") return "gone";
  const start = Number(fields[19]); // field 22: fields[0] is field 3
  return Number.isSafeInteger(start) && start >= 0 ? start : "gone";
}

/** Reads a pid's start time from /proc. */
export function startTimeOf(pid: number): StartTime {
  if (!Number.isInteger(pid) || pid <= 0 || pid > 0x7fffffff) return "gone";
  const r = readText(`/proc/${pid}/stat`, 2048);
  if ("error" in r) return r.error === "ENOENT" || r.error === "ESRCH" ? "gone" : "unknown";
  return parseStat(r.text);
}

/** Whether thread `tid` of process `pid` exists and is not a zombie (/proc/<pid>/task/<tid>/stat), or "unknown". */
export function threadExists(pid: number, tid: number): boolean | "unknown" {
  if (!Number.isInteger(tid) || tid <= 0 || tid > 0x7fffffff || !Number.isInteger(pid) || pid <= 0) return false;
  const r = readText(`/proc/${pid}/task/${tid}/stat`, 2048);
  if ("error" in r) return r.error === "ENOENT" || r.error === "ESRCH" ? false : "unknown";
  return parseStat(r.text) !== "gone";
}

/**
 * Liveness answers for one inspection pass: each pid's /proc entry is read once. A
 * recorded start time may be stored whole or reduced modulo 2^31 (claim words) or
 * 2^32 (pool records); `mod` says which.
 */
export class ProcessTable {
  readonly #cache = new Map<number, StartTime>();

  /** The start time of `pid` (cached for this table's lifetime). */
  startTime(pid: number): StartTime {
    let t = this.#cache.get(pid);
    if (t === undefined) {
      t = startTimeOf(pid);
      this.#cache.set(pid, t);
    }
    return t;
  }

  /**
   * Whether `pid` is alive and, when `start` is non-zero, started at `start` (compared
   * modulo `mod` when given). null when /proc does not tell.
   */
  alive(pid: number, start = 0, mod = 0): boolean | null {
    const t = this.startTime(pid);
    if (t === "gone") return false;
    if (t === "unknown") return null;
    if (start === 0) return true;
    return mod > 0 ? t % mod === start % mod : t === start;
  }

  /**
   * Whether a registry slot's attachment is alive: its process (pid + start time) and,
   * for a Worker's slot (`tid` neither 0 nor the pid), that thread.
   */
  attachmentAlive(pid: number, start: number, tid: number): boolean | null {
    const p = this.alive(pid, start);
    if (p !== true || tid === 0 || tid === pid) return p;
    const t = threadExists(pid, tid);
    return t === "unknown" ? null : t;
  }
}
