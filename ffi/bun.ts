import { bind, nulTerminated } from "./bind.ts";
import type { Native } from "./native.ts";
import { type CType, type RawSymbols, SYMBOLS } from "./symbols.ts";

/** The parts of bun:ffi used here (typed locally so Deno can type-check this file). */
export interface BunFfi {
  dlopen(path: string, defs: Record<string, { args: string[]; returns: string }>): { symbols: RawSymbols };
  toArrayBuffer(ptr: number, offset: number, length: number): ArrayBuffer;
  ptr(view: ArrayBufferView): number;
  JSCallback: new (
    fn: (token: number, result: number) => void,
    def: { args: string[]; returns: string; threadsafe: boolean },
  ) => { ptr: number };
}

const TYPES: Record<CType, string> = {
  i32: "i32",
  u32: "u32",
  i64: "i64_fast",
  usize: "usize",
  f64: "f64",
  void: "void",
  cstring: "ptr",
  callback: "ptr", // a JSCallback's .ptr
};

/** Loads the library with bun:ffi. */
export function loadBun(ffi: BunFfi, path: string): Native {
  const defs: Record<string, { args: string[]; returns: string }> = {};
  for (const [name, sig] of Object.entries(SYMBOLS)) {
    defs[name] = { args: sig.args.map((t) => TYPES[t]), returns: TYPES[sig.returns] };
  }
  const s = ffi.dlopen(path, defs).symbols;

  // Async waits: a native helper thread parks on the futex and reports through one
  // thread-safe callback, which Bun runs on the JS thread; tokens match reports to promises.
  const pending = new Map<number, (result: number) => void>();
  let nextToken = 1;
  let callback: { ptr: number } | undefined;
  // A pending native wait does not keep Bun's event loop alive by itself: a timer does.
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  function settle(token: number, result: number): void {
    const resolve = pending.get(token);
    pending.delete(token);
    if (pending.size === 0 && keepAlive !== undefined) {
      clearInterval(keepAlive);
      keepAlive = undefined;
    }
    resolve?.(result);
  }
  function futexWaitAsync(base: number, offset: number, expected: number, timeoutNs: number): Promise<number> {
    callback ??= new ffi.JSCallback(settle, { args: ["u32", "i32"], returns: "void", threadsafe: true });
    const token = nextToken;
    nextToken = (nextToken % 0x7fffffff) + 1;
    return new Promise((resolve) => {
      pending.set(token, resolve);
      keepAlive ??= setInterval(() => {}, 1 << 30);
      const rc = s.shmkit_futex_wait_thread(base, offset, expected, timeoutNs, callback!.ptr, token);
      if (rc < 0) settle(token, rc);
    });
  }

  return bind(s, {
    runtime: "bun",
    path,
    cstring: nulTerminated,
    view: (address, size) => ffi.toArrayBuffer(address, 0, size),
    addressOf: (a) => ffi.ptr(a),
    futexWaitAsync,
  });
}
