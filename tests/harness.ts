/**
 * One test API for `deno test` and `bun test`, so every test file runs under both.
 * `test(name, fn, { timeout })`: async tests are failed after `timeout` ms.
 */
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const bunTestSpecifier = "bun:test";
const bunTest = typeof g.Bun !== "undefined" ? await import(bunTestSpecifier) : undefined;

export interface TestOptions {
  /** Milliseconds before the test fails (default 30 s). */
  timeout?: number;
  /** Skip unless this is true (for opt-in soak tests). */
  ignore?: boolean;
}

export const runtime: "deno" | "bun" = bunTest ? "bun" : "deno";

function withTimeout(name: string, fn: () => unknown, ms: number): () => Promise<void> {
  return async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`test "${name}" timed out after ${ms} ms`)), ms);
    });
    try {
      await Promise.race([Promise.resolve().then(fn), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}

export function test(name: string, fn: () => unknown, options: TestOptions = {}): void {
  const timeout = options.timeout ?? 30_000;
  if (bunTest) {
    if (options.ignore) bunTest.test.skip(name, fn);
    else bunTest.test(name, withTimeout(name, fn, timeout), timeout + 1_000);
  } else {
    g.Deno.test({
      name,
      ignore: options.ignore ?? false,
      fn: withTimeout(name, fn, timeout),
      // Segments are process-wide resources a test may legitimately keep across awaits.
      sanitizeResources: false,
      sanitizeOps: false,
    });
  }
}

let counter = 0;
/** A segment name unique to this process and call, so runs never collide. */
export function uniqueName(tag = "t"): string {
  return `shmkit-test-${tag}-${runtime}-${g.Deno?.pid ?? g.process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** True when an opt-in environment flag (e.g. SHMKIT_SOAK=1) is set. */
export function flag(name: string): boolean {
  const v = g.Deno ? g.Deno.env.get(name) : g.process.env[name];
  return v !== undefined && v !== "" && v !== "0";
}
