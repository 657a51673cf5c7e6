import { bind, nulTerminated } from "./bind.ts";
import type { CancellableWait, Native } from "./native.ts";
import { type CType, type RawSymbols, SYMBOLS } from "./symbols.ts";

/** The FFI types of Deno.dlopen used here. */
type DenoType = "i32" | "u32" | "i64" | "usize" | "f64" | "void" | "buffer" | "function";

/** A Deno.dlopen symbol definition. */
interface DenoForeignFunction {
  name?: string;
  parameters: DenoType[];
  result: DenoType;
  nonblocking?: boolean;
}

/**
 * The parts of the `Deno` namespace used here, typed locally (as bun.ts types bun:ffi)
 * so this file type-checks without Deno's lib, e.g. under tsc for the npm package.
 */
export interface DenoFfi {
  dlopen(path: string, symbols: Record<string, DenoForeignFunction>): { symbols: unknown; close(): void };
  UnsafePointer: {
    create(value: bigint): unknown;
    of(view: ArrayBufferView): unknown;
    value(pointer: unknown): bigint | number;
  };
  UnsafePointerView: { getArrayBuffer(pointer: unknown, length: number): ArrayBuffer };
}

const TYPES: Record<CType, DenoType> = {
  i32: "i32",
  u32: "u32",
  i64: "i64",
  usize: "usize",
  f64: "f64",
  void: "void",
  cstring: "buffer",
  callback: "function",
};

/** Loads the library with Deno.dlopen. */
export function loadDeno(deno: DenoFfi, path: string): Native {
  const defs: Record<string, DenoForeignFunction> = {};
  for (const [name, sig] of Object.entries(SYMBOLS)) {
    defs[name] = { parameters: sig.args.map((t) => TYPES[t]), result: TYPES[sig.returns] };
  }
  // The same native wait, run on Deno's FFI thread pool so it returns a Promise.
  defs.shmkit_futex_wait_nonblocking = {
    name: "shmkit_futex_wait",
    parameters: ["f64", "u32", "i32", "f64"],
    result: "i32",
    nonblocking: true,
  };
  defs.shmkit_wait_job_run_nonblocking = { name: "shmkit_wait_job_run", parameters: ["f64"], result: "i32", nonblocking: true };
  const lib = deno.dlopen(path, defs);
  const s = lib.symbols as RawSymbols & {
    shmkit_futex_wait_nonblocking(b: number, o: number, e: number, t: number): Promise<number>;
    shmkit_wait_job_run_nonblocking(job: number): Promise<number>;
  };
  // A cancellable wait runs on Deno's FFI thread pool; Deno delivers its result (or drops
  // it, for a terminated Worker) itself. The job is freed once the pool thread returned.
  function futexWaitCancellable(b: number, o: number, e: number, t: number): CancellableWait {
    const job: number = s.shmkit_wait_job_new(b, o, e, t);
    if (job < 0) return { promise: Promise.resolve(job), cancel() {} };
    let released = false;
    const promise = s.shmkit_wait_job_run_nonblocking(job).then((rc) => {
      released = true;
      s.shmkit_wait_job_release(job);
      return rc;
    });
    // After the release the job is freed memory: a cancel then (select cancels every
    // wait it started, the winner's too) must not write its cancel word. Both run on
    // this thread, so the flag cannot race. (It did write: a heap corruption that
    // aborted Deno, "corrupted double-linked list", in about one select run of 12.)
    return { promise, cancel: () => released || s.shmkit_wait_job_cancel(job) };
  }
  return bind(s, {
    runtime: "deno",
    path,
    cstring: nulTerminated,
    view(address, size) {
      return deno.UnsafePointerView.getArrayBuffer(deno.UnsafePointer.create(BigInt(address)), size);
    },
    addressOf(a) {
      return Number(deno.UnsafePointer.value(deno.UnsafePointer.of(a)));
    },
    futexWaitAsync: (b, o, e, t) => s.shmkit_futex_wait_nonblocking(b, o, e, t),
    futexWaitCancellable,
  });
}
