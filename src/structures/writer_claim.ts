/**
 * Single-writer claims: the u64 word in a structure's control area that names the one
 * process allowed to write to it (BroadcastRing's writer, RingBuffer's producer).
 *
 * The word holds `pid × 2^31 + (start time mod 2^31)` (start time: clock ticks after
 * boot, field 22 of /proc/<pid>/stat), 0 when nobody holds it; below 2^53 for any
 * Linux pid (pid_max ≤ 2^22), changed only by 64-bit CAS (native cas64).
 *
 * - claim: CAS 0 → mine. A word naming a process that is gone (or a recycled pid with
 *   another start time) is taken over with CAS(theirs → mine); a live other process
 *   gets EXISTS naming its pid. A word that already names this process was claimed by
 *   a handle here: refused (EXISTS) while that handle is open and holding it, reused
 *   otherwise (a handle dropped without close). Handles are told apart with a
 *   per-process map keyed by segment name and block offset.
 * - release: CAS mine → 0 (a no-op if someone already took the claim over).
 *
 * The claim costs nothing on the write path: callers keep a private "held" boolean and
 * only come here when it is false.
 */
import { native } from "../../ffi/mod.ts";
import { ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";
import { me } from "../segment/process.ts";

const TWO_31 = 2 ** 31;

/** Who holds each claimed structure in this process: "segment\0offset" → claim. */
const holders = new Map<string, WriterClaim>();

/** This process's claim word value. */
function mine(): number {
  const self = me();
  return self.pid * TWO_31 + (self.start % TWO_31);
}

/**
 * True while `pid` names a live (non-zombie) process whose start time is `start` mod
 * 2^31: isAlive() from src/segment/process.ts, but compared the way the claim word stores it.
 */
function holderAlive(pid: number, start: number): boolean {
  // Pids come from shared memory (untrusted): one beyond i32 would make the FFI call throw.
  if (!(pid > 0 && pid <= 0x7fffffff)) return false;
  const t = native().processStartTime(pid);
  return t >= 0 && t % TWO_31 === start;
}

/** Names used in the EXISTS messages, e.g. { what: `ring "r"`, role: "producer", cls: "RingBuffer" }. */
export interface ClaimNames {
  /** The structure, as messages name it: `broadcast ring "ticks"`. */
  what: string;
  /** "writer", "producer". */
  role: string;
  /** The class, for "RingBuffer allows one producer at a time". */
  cls: string;
}

/** One handle's view of a structure's claim word. */
export class WriterClaim {
  readonly #key: string;
  readonly #at: number;
  readonly #names: ClaimNames;
  readonly #closed: () => boolean;
  #held = false;

  /**
   * @param segName the segment's name (with `offset`, identifies the structure in this process)
   * @param offset  the structure's block offset
   * @param at      byte offset of the claim word (8-byte aligned)
   * @param closed  whether the owning handle is closed (a closed handle holds nothing)
   */
  constructor(segName: string, offset: number, at: number, names: ClaimNames, closed: () => boolean) {
    this.#key = `${segName}\0${offset}`;
    this.#at = at;
    this.#names = names;
    this.#closed = closed;
  }

  /** True while this handle holds the claim (and is open). */
  get held(): boolean {
    return this.#held && !this.#closed();
  }

  /** Takes the claim (idempotent). EXISTS if another live process, or another open handle here, holds it. */
  acquire(m: Memory): void {
    if (this.#held) return;
    const n = native();
    const self = mine();
    const { what, role, cls } = this.#names;
    for (;;) {
      const cur = n.load64(m.base, this.#at);
      if (cur === 0) {
        if (n.cas64(m.base, this.#at, 0, self) === 0) break;
        continue;
      }
      // A value load64 cannot return exactly (≥ 2^53) would make every CAS below fail forever.
      if (!Number.isSafeInteger(cur) || cur < 0) throw new ShmError("CORRUPT", `${what}: ${role} claim word holds ${cur}`);
      const pid = Math.floor(cur / TWO_31);
      if (cur === self) {
        // Claimed by this process: by an open handle (refuse) or one dropped without close (reuse).
        const other = holders.get(this.#key);
        if (other !== undefined && other !== this && other.held) {
          throw new ShmError(
            "EXISTS",
            `${what} already has a ${role}: another handle in this process (pid ${pid}); close it first`,
          );
        }
        break;
      }
      if (holderAlive(pid, cur % TWO_31)) {
        throw new ShmError("EXISTS", `${what} already has a ${role} (pid ${pid}); ${cls} allows one ${role} at a time`);
      }
      // The holder died (or its pid now belongs to another process): take the claim over.
      if (n.cas64(m.base, this.#at, cur, self) === cur) break;
    }
    this.#held = true;
    holders.set(this.#key, this);
  }

  /** Gives the claim back (no-op if not held). `m` may be closed: then only the local state is cleared. */
  release(m: Memory): void {
    if (!this.#held) return;
    this.#held = false;
    if (holders.get(this.#key) === this) holders.delete(this.#key);
    if (m.closed) return;
    native().cas64(m.base, this.#at, mine(), 0);
  }
}
