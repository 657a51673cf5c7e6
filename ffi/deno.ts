import { bind, nulTerminated } from "./bind.ts";
import type { CancellableWait, Native } from "./native.ts";
import { SYMBOLS, type CType, type RawSymbols } from "./symbols.ts";

const TYPES: Record<CType, Deno.NativeType | "void"> = {
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
export function loadDeno(path: string): Native {
  const defs: Record<string, Deno.ForeignFunction> = {};
  for (const [name, sig] of Object.entries(SYMBOLS)) {
    defs[name] = { parameters: sig.args.map((t) => TYPES[t]) as Deno.NativeType[], result: TYPES[sig.returns] };
  }
  // The same native wait, run on Deno's FFI thread pool so it returns a Promise.
  defs.shmkit_futex_wait_nonblocking = {
    name: "shmkit_futex_wait",
    parameters: ["f64", "u32", "i32", "f64"],
    result: "i32",
    nonblocking: true,
  };
  defs.shmkit_wait_job_run_nonblocking = { name: "shmkit_wait_job_run", parameters: ["f64"], result: "i32", nonblocking: true };
  const lib = Deno.dlopen(path, defs);
  const s = lib.symbols as unknown as RawSymbols & {
    shmkit_futex_wait_nonblocking(b: number, o: number, e: number, t: number): Promise<number>;
    shmkit_wait_job_run_nonblocking(job: number): Promise<number>;
  };
  // A cancellable wait runs on Deno's FFI thread pool; Deno delivers its result (or drops
  // it, for a terminated Worker) itself. The job is freed once the pool thread returned.
  function futexWaitCancellable(b: number, o: number, e: number, t: number): CancellableWait {
    const job: number = s.shmkit_wait_job_new(b, o, e, t);
    if (job < 0) return { promise: Promise.resolve(job), cancel() {} };
    const promise = s.shmkit_wait_job_run_nonblocking(job).then((rc) => {
      s.shmkit_wait_job_release(job);
      return rc;
    });
    return { promise, cancel: () => s.shmkit_wait_job_cancel(job) };
  }
  return bind(s, {
    runtime: "deno",
    path,
    cstring: nulTerminated,
    view(address, size) {
      return Deno.UnsafePointerView.getArrayBuffer(Deno.UnsafePointer.create(BigInt(address))!, size);
    },
    addressOf(a) {
      return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(a)));
    },
    futexWaitAsync: (b, o, e, t) => s.shmkit_futex_wait_nonblocking(b, o, e, t),
    futexWaitCancellable,
  });
}
