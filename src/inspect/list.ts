/**
 * `Segment.list()`: every file in /dev/shm examined read-only (src/inspect/examine.ts),
 * foreign files only when asked for. A file that vanishes while being listed is
 * skipped; one that cannot be read is listed with the reason.
 */
import type { ListOptions, SegmentListing } from "../segment/inspection.ts";
import { ShmError } from "../errors.ts";
import { describeError, listDir, RUNTIME_DENIED, SHM_DIR } from "./host.ts";
import { examine } from "./examine.ts";
import { ProcessTable } from "./proc.ts";

/**
 * Lists the files of /dev/shm as segments, sorted by name (also `Segment.list`):
 * shmkit segments in any state, foreign files too with `{ all: true }`.
 *
 * @example
 * ```ts
 * import { listSegments, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-list-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const found = listSegments({ prefix: seg.name });
 * assert.deepEqual(found.map((s) => [s.name, s.state]), [[seg.name, "ready"]]);
 * ```
 */
export function listSegments(options: ListOptions = {}): SegmentListing[] {
  const names = listDir(SHM_DIR);
  if (typeof names === "string") {
    const denied = names === "EACCES" || names === "EPERM" || names === RUNTIME_DENIED;
    throw new ShmError(denied ? "PERMISSION" : "OS_ERROR", `cannot list ${SHM_DIR}: ${describeError(names)}`);
  }
  const procs = new ProcessTable();
  const out: SegmentListing[] = [];
  for (const name of names) {
    if (options.prefix !== undefined && !name.startsWith(options.prefix)) continue;
    const x = examine(name, procs);
    if (x === undefined) continue; // removed meanwhile
    if (x.listing.state === "foreign" && !options.all) continue;
    out.push(x.listing);
  }
  return out;
}
