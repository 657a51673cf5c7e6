/** Exit codes and the JSON schema version of the `shmkit` command (docs/CLI.md). */
import type { SegmentState } from "../segment/inspection.ts";

/** Exit codes (docs/CLI.md). */
export const Exit = {
  /** Success. */
  OK: 0,
  /** An unexpected error (I/O failure, bug), or gc could not remove some segment. */
  ERROR: 1,
  /** Bad command line. */
  USAGE: 2,
  /** No such segment. */
  NOT_FOUND: 3,
  /** `rm` refused: live processes attached, being created, empty or damaged; `--force` removes it. */
  NEEDS_FORCE: 4,
  /** Not a shmkit segment (foreign, or empty when inspected); never removed. */
  NOT_SHMKIT: 5,
  /** A shmkit segment that is not usable: corrupt, of an unsupported format version, or half-created. */
  DAMAGED: 6,
  /** Permission denied (reading it, or removing its name). */
  PERMISSION: 7,
} as const;

/** JSON output format version (bumped only on incompatible changes). */
export const SCHEMA = 1;

/** The exit code `inspect`/`watch` give for a segment state. */
export function exitForState(state: SegmentState): number {
  switch (state) {
    case "ready":
    case "initialising":
      return Exit.OK;
    case "foreign":
    case "empty":
      return Exit.NOT_SHMKIT;
    case "unreadable":
      return Exit.PERMISSION;
    default:
      return Exit.DAMAGED;
  }
}
