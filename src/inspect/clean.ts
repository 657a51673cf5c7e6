/**
 * Removing segments: `removeSegment` (the CLI's `rm`) and `collectGarbage` (`gc`).
 * Only files that carry the shmkit header are ever removed (an all-zero or zero-length
 * file only on explicit request with `force`); foreign and unreadable files never.
 * A segment is re-examined just before its name is unlinked and must still be the
 * same file (device, inode) in the same condition; the remaining window — a process
 * opening it in the microseconds between that check and the unlink — leaves that
 * process with a mapping of a segment that no longer has a name (it keeps working,
 * as with `Segment.unlink`). Removing the name never touches the memory of processes
 * that have it mapped.
 */
import type { SegmentListing } from "../segment/inspection.ts";
import { checkSegmentName } from "../segment/names.ts";
import { ShmError } from "../errors.ts";
import { examine, pathOf } from "./examine.ts";
import { describeError, lstat, unlink } from "./host.ts";
import { listSegments } from "./list.ts";
import { ProcessTable } from "./proc.ts";

/**
 * Options of `removeSegment`.
 *
 * @example
 * ```ts
 * import { type RemoveOptions, removeSegment, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-rmforce-" + crypto.randomUUID().slice(0, 8), { size: 1 << 16 });
 * const options: RemoveOptions = { force: true };
 * assert.equal(removeSegment(seg.name, options).outcome, "removed"); // the mapping stays usable
 * ```
 */
export interface RemoveOptions {
  /** Remove even with live processes attached, while being created, or when empty/corrupt/unsupported. */
  force?: boolean;
}

/**
 * What `removeSegment` decided: `removed`; `needs-force` (live processes attached,
 * being created, empty, corrupt or of another format version: `force` removes it);
 * `refused` (foreign or unreadable: never removed); `failed` (the unlink itself
 * failed, `reason` says why, e.g. permission denied).
 *
 * @example
 * ```ts
 * import { type RemoveOutcome, removeSegment, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-outcome-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const outcome: RemoveOutcome = removeSegment(seg.name).outcome;
 * assert.equal(outcome, "needs-force");
 * ```
 */
export type RemoveOutcome = "removed" | "needs-force" | "refused" | "failed";

/**
 * The result of removing one segment.
 *
 * @example
 * ```ts
 * import { type RemoveResult, removeSegment, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-result-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const r: RemoveResult = removeSegment(seg.name);
 * assert.match(r.reason, /1 live process\(es\) attached/);
 * assert.equal(r.segment.state, "ready");
 * ```
 */
export interface RemoveResult {
  /** The segment name. */
  readonly name: string;
  /** What was done (see RemoveOutcome). */
  readonly outcome: RemoveOutcome;
  /** Why it was (or was not) removed. */
  readonly reason: string;
  /** The segment as examined just before the decision. */
  readonly segment: SegmentListing;
}

/** Why a listing may be removed (`ok`), needs `force`, or must never be. */
function judge(s: SegmentListing): { verdict: "ok" | "needs-force" | "refused"; reason: string } {
  switch (s.state) {
    case "foreign":
      return { verdict: "refused", reason: `not a shmkit segment (${s.reason}); shmkit never removes other files` };
    case "unreadable":
      return { verdict: "refused", reason: `cannot read it to check that it is a shmkit segment (${s.reason})` };
    case "empty":
      return { verdict: "needs-force", reason: `${s.reason}; remove it with force if you know it is a shmkit segment` };
    case "corrupt":
    case "unsupported":
      return { verdict: "needs-force", reason: `${s.state}: ${s.reason}; its registry cannot be trusted to show who uses it` };
    case "initialising":
      return { verdict: "needs-force", reason: `${s.reason}: still being created` };
    case "half-created":
      return { verdict: "ok", reason: s.reason };
    case "ready": {
      if (s.liveProcesses > 0) {
        const pids = s.attached.filter((p) => p.alive !== false).map((p) => p.pid).join(", ");
        return { verdict: "needs-force", reason: `${s.liveProcesses} live process(es) attached (pid ${pids})` };
      }
      if (s.attached.length > 0) return { verdict: "ok", reason: `every attached process is dead (pid ${deadPids(s)})` };
      return { verdict: "ok", reason: "no process attached" };
    }
  }
}

function deadPids(s: SegmentListing): string {
  return s.attached.filter((p) => p.alive === false).map((p) => p.pid).join(", ");
}

/**
 * Removes the segment `name` (its name in /dev/shm) after checking it is a shmkit
 * segment nobody alive uses; see RemoveOutcome. NOT_FOUND when there is no such file.
 *
 * @example
 * ```ts
 * import { removeSegment, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const name = "doc-rm-" + crypto.randomUUID().slice(0, 8);
 * const seg = Segment.create(name, { size: 1 << 16 });
 * assert.equal(removeSegment(name).outcome, "needs-force"); // this live process has it open
 * seg.close();
 * assert.equal(removeSegment(name).outcome, "removed");
 * ```
 */
export function removeSegment(name: string, options: RemoveOptions = {}): RemoveResult {
  checkSegmentName(name);
  const x = examine(name, new ProcessTable());
  if (x === undefined) throw new ShmError("NOT_FOUND", `no segment named "${name}" in /dev/shm`);
  const s = x.listing;
  const { verdict, reason } = judge(s);
  if (verdict === "refused") return { name, outcome: "refused", reason, segment: s };
  if (verdict === "needs-force" && !options.force) return { name, outcome: "needs-force", reason, segment: s };
  return unlinkIfSame(name, x.dev, x.ino, s, reason);
}

/** Unlinks the name if it still names the file that was examined (same device and inode). */
function unlinkIfSame(name: string, dev: number, ino: number, s: SegmentListing, reason: string): RemoveResult {
  const path = pathOf(name);
  const now = lstat(path);
  if (now === "ENOENT") return { name, outcome: "removed", reason: `${reason} (already gone)`, segment: s };
  if (typeof now !== "string" && (now.dev !== dev || now.ino !== ino)) {
    return { name, outcome: "failed", reason: "the name was given to another file while it was being checked", segment: s };
  }
  const err = unlink(path);
  if (err === "ENOENT") return { name, outcome: "removed", reason: `${reason} (already gone)`, segment: s };
  if (err !== undefined) return { name, outcome: "failed", reason: `unlinking it failed: ${describeError(err)}`, segment: s };
  return { name, outcome: "removed", reason, segment: s };
}

/**
 * Options of `collectGarbage`.
 *
 * @example
 * ```ts
 * import { collectGarbage, type GcOptions } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const options: GcOptions = { dryRun: true, prefix: "doc-gcopts-" + crypto.randomUUID().slice(0, 8) };
 * assert.deepEqual(collectGarbage(options).removed, []);
 * ```
 */
export interface GcOptions {
  /** Only report what would be removed. */
  dryRun?: boolean;
  /** Only segments whose name starts with this. */
  prefix?: string;
  /** Also remove ready segments with no process attached at all (by default they are kept: segments persist until unlinked). */
  detached?: boolean;
}

/**
 * The result of `collectGarbage`.
 *
 * @example
 * ```ts
 * import { collectGarbage, type GcResult } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const r: GcResult = collectGarbage({ dryRun: true, prefix: "doc-gcresult-" + crypto.randomUUID().slice(0, 8) });
 * assert.deepEqual([r.dryRun, r.removed, r.failed], [true, [], []]);
 * ```
 */
export interface GcResult {
  /** True when nothing was removed, only reported. */
  readonly dryRun: boolean;
  /** Removed (or, in a dry run, would be removed), with the reason. */
  readonly removed: readonly { readonly name: string; readonly state: string; readonly reason: string }[];
  /** Candidates that could not be removed, with the reason. */
  readonly failed: readonly { readonly name: string; readonly reason: string }[];
}

/** Whether gc takes this listing. */
function collectable(s: SegmentListing, detached: boolean): boolean {
  if (s.state === "half-created") return true;
  if (s.state !== "ready") return false;
  if (s.attached.length === 0) return detached;
  return s.liveProcesses === 0;
}

/**
 * Removes stale segments: ready ones whose every attached process is dead, and
 * half-created ones whose creator died (with `detached`, also ready ones nobody has
 * attached). Live, initialising, corrupt, empty, unreadable and foreign files are kept.
 *
 * @example
 * ```ts
 * import { collectGarbage, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const prefix = "doc-gc-" + crypto.randomUUID().slice(0, 8);
 * Segment.create(prefix + "-idle", { size: 1 << 16 }).close(); // ready, nobody attached
 * assert.deepEqual(collectGarbage({ prefix }).removed, []); // kept: segments persist until unlinked
 * assert.deepEqual(collectGarbage({ prefix, detached: true }).removed.map((r) => r.name), [prefix + "-idle"]);
 * ```
 */
export function collectGarbage(options: GcOptions = {}): GcResult {
  const dryRun = options.dryRun ?? false;
  const detached = options.detached ?? false;
  const removed: { name: string; state: string; reason: string }[] = [];
  const failed: { name: string; reason: string }[] = [];
  for (const s of listSegments({ prefix: options.prefix })) {
    if (!collectable(s, detached)) continue;
    if (dryRun) {
      removed.push({ name: s.name, state: s.state, reason: judge(s).reason });
      continue;
    }
    // Look again right before removing: a process may have attached since the listing.
    const x = examine(s.name, new ProcessTable());
    if (x === undefined) continue;
    if (!collectable(x.listing, detached)) continue;
    const r = unlinkIfSame(s.name, x.dev, x.ino, x.listing, judge(x.listing).reason);
    if (r.outcome === "removed") removed.push({ name: s.name, state: x.listing.state, reason: r.reason });
    else failed.push({ name: s.name, reason: r.reason });
  }
  return { dryRun, removed, failed };
}
