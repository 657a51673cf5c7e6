import { bind, nulTerminated } from "./bind.ts";
import type { CancellableWait, Native } from "./native.ts";
import { type CType, type RawSymbols, SYMBOLS } from "./symbols.ts";

/** The parts of bun:ffi used here (typed locally so Deno can type-check this file). */
export interface BunFfi {
  dlopen(path: string, defs: Record<string, { args: string[]; returns: string }>): { symbols: RawSymbols; close(): void };
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

/** Bun.file, for reading a descriptor from the event loop (not part of bun:ffi). */
/** The part of a stream reader used here (typed locally: Bun's and the DOM's reader types differ). */
interface ChunkReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(): Promise<void>;
}
const bunGlobal = (globalThis as unknown as { Bun: { file(fd: number): { stream(): { getReader(): ChunkReader } } } }).Bun;

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

  // Cancellable waits: the helper thread (zig/waiter.zig) never enters the VM. It sends
  // {token, result} as one datagram on a socket pair whose read end this JS thread reads
  // from its event loop (Bun.file(fd).stream()); a terminated Worker's VM is simply never
  // told. Measured: calling the Worker's thread-safe JSCallback instead crashed Bun when
  // the wake landed while the Worker's VM was being torn down. A pending read keeps Bun
  // alive, so the reader runs only while a wait is pending (on a fresh dup of the read end:
  // the original descriptors stay open for good, so their numbers are never reused).
  const ECANCELED = -125;
  let channel: { read: number; write: number } | undefined;
  let reader: ChunkReader | undefined;
  function stopReader(): void {
    const r = reader;
    reader = undefined;
    r?.cancel().catch(() => {});
  }
  function startReader(): void {
    if (reader || !channel) return;
    const fd = s.shmkit_dup(channel.read);
    if (fd < 0) return;
    const r = bunGlobal.file(fd).stream().getReader();
    reader = r;
    (async () => {
      for (;;) {
        let chunk: { done: boolean; value?: Uint8Array };
        try {
          chunk = await r.read();
        } catch {
          break;
        }
        if (chunk.done) break;
        const v = chunk.value!;
        const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
        for (let at = 0; at + 8 <= v.byteLength; at += 8) settle(dv.getUint32(at, true), dv.getInt32(at + 4, true));
        if (reader !== r) break;
      }
      if (reader === r) reader = undefined;
      // The stream does not close a descriptor it was given: close our dup, or every
      // stop leaks one (20,000 sequential parks ended in EMFILE).
      s.shmkit_close(fd);
      if (pending.size > 0) startReader();
    })();
  }
  function futexWaitCancellable(base: number, offset: number, expected: number, timeoutNs: number): CancellableWait {
    const job: number = s.shmkit_wait_job_new(base, offset, expected, timeoutNs);
    if (job < 0) return { promise: Promise.resolve(job), cancel() {} };
    if (!channel) {
      const c = s.shmkit_completion_channel();
      if (c < 0) {
        s.shmkit_wait_job_release(job);
        return { promise: Promise.resolve(c), cancel() {} };
      }
      channel = { read: Math.floor(c / 65536), write: c % 65536 };
    }
    const token = nextToken;
    nextToken = (nextToken % 0x7fffffff) + 1;
    const promise = new Promise<number>((resolve) => {
      pending.set(token, (rc) => {
        s.shmkit_wait_job_release(job);
        if (pending.size === 0) stopReader();
        resolve(rc);
      });
      startReader();
      const rc = s.shmkit_wait_job_send(job, channel!.write, token);
      if (rc < 0) settle(token, rc);
    });
    return {
      promise,
      cancel() {
        if (!pending.has(token)) return;
        s.shmkit_wait_job_cancel(job); // the helper returns at once and sends nothing
        settle(token, ECANCELED);
      },
    };
  }

  return bind(s, {
    runtime: "bun",
    path,
    cstring: nulTerminated,
    view: (address, size) => ffi.toArrayBuffer(address, 0, size),
    addressOf: (a) => ffi.ptr(a),
    futexWaitAsync,
    futexWaitCancellable,
  });
}
