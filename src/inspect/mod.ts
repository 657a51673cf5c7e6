/**
 * Read-only inspection of shmkit segments and their cleanup, without the native
 * library: `listSegments` / `inspectSegment` (also reachable as `Segment.list()` and
 * `Segment.inspect()`, which this module installs), `rates`, `removeSegment` and
 * `collectGarbage`. docs/CLI.md documents the reports field by field.
 *
 * @module
 */
import { installInspector } from "../segment/inspection.ts";
import { inspectSegment } from "./inspect.ts";
import { listSegments } from "./list.ts";

installInspector({ list: listSegments, inspect: inspectSegment });

export { inspectSegment } from "./inspect.ts";
export { listSegments } from "./list.ts";
export { type Rates, rates } from "./rates.ts";
export {
  collectGarbage,
  type GcOptions,
  type GcResult,
  type RemoveOptions,
  type RemoveOutcome,
  type RemoveResult,
  removeSegment,
} from "./clean.ts";
