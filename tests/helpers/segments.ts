/**
 * Fresh, uniquely named segments for tests, removed again however the test ends.
 *
 * - `segmentTest(tag, size, fn)` wraps a test body: `test("…", segmentTest("q", 1 << 20, (seg, name) => …))`.
 * - `runWithSegment(tag, size, fn)` runs `fn` at once, synchronously, for helpers
 *   called inside a synchronous test body.
 *
 * `size` is the segment size in bytes, or the full options of `Segment.create` when a
 * test also needs maxEntries, maxProcesses and the like. Keep the size a test already
 * used: some tests depend on it (FULL, out-of-memory and layout checks).
 */
import { Segment } from "../../src/segment/segment.ts";
import { uniqueName } from "../harness.ts";

/** The options `Segment.create` takes. */
export type CreateOptions = Parameters<typeof Segment.create>[1];

/** A test body that gets the segment and its name (to pass to worker processes). */
export type SegmentBody = (seg: Segment, name: string) => unknown;

export interface CleanupOptions {
  /**
   * Remove the name with `seg.unlink()` before `seg.close()` (the default is
   * `seg.close()`, then `Segment.unlink(name)`). `seg.unlink()` throws CLOSED when the
   * body has already closed `seg`, so this order also checks the body left it open.
   */
  unlinkFirst?: boolean;
}

/** Creates the segment `uniqueName(tag)` of `size` bytes (or with these create options). */
function create(tag: string, size: number | CreateOptions): { seg: Segment; name: string } {
  const name = uniqueName(tag);
  return { seg: Segment.create(name, typeof size === "number" ? { size } : size), name };
}

function cleanup(seg: Segment, name: string, options: CleanupOptions): void {
  if (options.unlinkFirst) {
    seg.unlink();
    seg.close();
  } else {
    seg.close();
    Segment.unlink(name);
  }
}

/**
 * A test body that creates a segment named `uniqueName(tag)` of `size` bytes (or
 * create options), awaits `fn(seg, name)`, then closes and unlinks the segment even
 * when `fn` throws.
 */
export function segmentTest(
  tag: string,
  size: number | CreateOptions,
  fn: SegmentBody,
  options: CleanupOptions = {},
): () => Promise<void> {
  return async () => {
    const { seg, name } = create(tag, size);
    try {
      await fn(seg, name);
    } finally {
      cleanup(seg, name, options);
    }
  };
}

/**
 * Creates a segment named `uniqueName(tag)` of `size` bytes (or create options), runs
 * `fn(seg, name)` synchronously, then closes and unlinks the segment even when `fn`
 * throws.
 */
export function runWithSegment<T>(
  tag: string,
  size: number | CreateOptions,
  fn: (seg: Segment, name: string) => T,
  options: CleanupOptions = {},
): T {
  const { seg, name } = create(tag, size);
  try {
    return fn(seg, name);
  } finally {
    cleanup(seg, name, options);
  }
}
