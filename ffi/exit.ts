/**
 * Exit hooks: the runtime-specific half of "exits clean up" (docs/LIFECYCLE.md). While
 * `installExitHooks` is in effect, `cleanup` runs once when this process is about to
 * end by SIGINT or SIGTERM, by an uncaught exception or unhandled rejection, or by a
 * normal exit; src/segment/exits.ts installs it only while at least one segment with
 * unlinkOnLastClose is open, and removes it when the last one closes.
 *
 * What is installed, exactly:
 *
 * - Deno: `Deno.addSignalListener` for SIGINT and SIGTERM; `globalThis` listeners for
 *   `unload`, `error` and `unhandledrejection` (they never call preventDefault). When
 *   this module is loaded (and SHMKIT_NO_SIGNAL_HANDLERS is not set) it also wraps
 *   `Deno.addSignalListener` / `Deno.removeSignalListener` to count the program's own
 *   listeners per signal (node:process `on("SIGINT")` goes through them too); the
 *   wrappers call the originals with the same arguments and return what they return.
 * - Bun: `process.on("SIGINT")`, `process.on("SIGTERM")`, `process.on("exit")`. Never
 *   `uncaughtException` (a listener there would keep a failing process alive); Bun
 *   emits `exit` after an uncaught exception or unhandled rejection.
 *
 * On SIGINT/SIGTERM: if the program has no listener of its own for that signal, the
 * cleanup runs, every hook is removed and the signal is raised again, so the process
 * dies of it as it would have (status 130 / 143 in a shell). If the program has one,
 * nothing is done at the signal: the program's listener decides, and if it exits
 * (Deno.exit, process.exit, or by ending) the exit hook cleans up then.
 *
 * Nothing is installed in a Worker (signals are the main thread's business), nor when
 * SHMKIT_NO_SIGNAL_HANDLERS is set to anything but "" or "0" (in Deno, read only when
 * env access is granted).
 */
import { optionalEnv } from "./mod.ts";

/** Why the process is ending. */
export type ExitCause = "SIGINT" | "SIGTERM" | "error" | "exit";

type Signal = "SIGINT" | "SIGTERM";
const SIGNALS: readonly Signal[] = ["SIGINT", "SIGTERM"];

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
// deno-lint-ignore no-explicit-any
const deno: any = typeof g.Deno?.addSignalListener === "function" ? g.Deno : undefined;
// deno-lint-ignore no-explicit-any
const proc: any = !deno && typeof g.process?.on === "function" ? g.process : undefined;

/**
 * True in a Worker. Not `gettid() !== getpid()`: `deno test` runs the main module on
 * a thread of its own.
 */
function inWorker(): boolean {
  if (deno) return typeof g.WorkerGlobalScope === "function" && g instanceof g.WorkerGlobalScope;
  return g.Bun ? g.Bun.isMainThread === false : false;
}

/** True when SHMKIT_NO_SIGNAL_HANDLERS opts out of every exit hook. */
export function exitHooksDisabled(): boolean {
  let v: string | undefined;
  try {
    v = optionalEnv("SHMKIT_NO_SIGNAL_HANDLERS");
  } catch {
    v = undefined;
  }
  return v !== undefined && v !== "" && v !== "0";
}

// Deno has no listener count: count the program's listeners through the public API.
type SignalFn = (signal: string, handler: () => void) => void;
const programListeners = new Map<string, Set<unknown>>();
let denoAdd: SignalFn | undefined;
let denoRemove: SignalFn | undefined;
if (deno && !exitHooksDisabled()) {
  const add: SignalFn = deno.addSignalListener.bind(deno);
  const remove: SignalFn = deno.removeSignalListener.bind(deno);
  denoAdd = add;
  denoRemove = remove;
  try {
    deno.addSignalListener = function addSignalListener(signal: string, handler: () => void): void {
      add(signal, handler);
      let set = programListeners.get(signal);
      if (!set) programListeners.set(signal, set = new Set());
      set.add(handler);
    };
    deno.removeSignalListener = function removeSignalListener(signal: string, handler: () => void): void {
      remove(signal, handler);
      programListeners.get(signal)?.delete(handler);
    };
  } catch {
    // A frozen Deno namespace: the program's listeners cannot be counted; we then assume it has none.
  }
}

/** Whether the program itself listens for `signal` (our own listener not counted). */
function programListens(signal: Signal): boolean {
  if (deno) return (programListeners.get(signal)?.size ?? 0) > 0;
  return proc.listenerCount(signal) > (installed ? 1 : 0);
}

let installed: { cleanup: (cause: ExitCause) => void; remove: () => void } | undefined;

function run(cause: ExitCause): void {
  const hooks = installed;
  if (!hooks) return;
  try {
    hooks.cleanup(cause);
  } finally {
    removeExitHooks();
  }
}

function onSignal(signal: Signal): void {
  if (programListens(signal)) return; // the program decides; the exit hook cleans up if it exits
  run(signal);
  removeExitHooks();
  // No listener is left: the signal's default action (death) applies again.
  try {
    if (deno) deno.kill(deno.pid, signal);
    else proc.kill(proc.pid, signal);
  } catch {
    // Deno without --allow-run cannot signal itself: exit with the status a shell reports for the signal.
    const status = 128 + (signal === "SIGINT" ? 2 : 15);
    if (deno) deno.exit(status);
    else proc.exit(status);
  }
}

/**
 * Installs the exit hooks (idempotent: a second call only replaces `cleanup`). Returns
 * false, installing nothing, in a Worker, on a runtime without signal listeners, or
 * when SHMKIT_NO_SIGNAL_HANDLERS is set.
 */
export function installExitHooks(cleanup: (cause: ExitCause) => void): boolean {
  if (installed) {
    installed.cleanup = cleanup;
    return true;
  }
  if ((!deno && !proc) || exitHooksDisabled()) return false;
  if (inWorker()) return false;
  const onSig = SIGNALS.map((s) => [s, () => onSignal(s)] as const);
  if (deno) {
    const add = denoAdd ?? deno.addSignalListener.bind(deno);
    const remove = denoRemove ?? deno.removeSignalListener.bind(deno);
    const onUnload = () => run("exit");
    const onError = (e: Event) => {
      if (!e.defaultPrevented) run("error");
    };
    for (const [s, h] of onSig) add(s, h);
    g.addEventListener("unload", onUnload);
    g.addEventListener("error", onError);
    g.addEventListener("unhandledrejection", onError);
    installed = {
      cleanup,
      remove: () => {
        for (const [s, h] of onSig) remove(s, h);
        g.removeEventListener("unload", onUnload);
        g.removeEventListener("error", onError);
        g.removeEventListener("unhandledrejection", onError);
      },
    };
  } else {
    const onExit = () => run("exit");
    for (const [s, h] of onSig) proc.on(s, h);
    proc.on("exit", onExit);
    installed = {
      cleanup,
      remove: () => {
        for (const [s, h] of onSig) proc.off(s, h);
        proc.off("exit", onExit);
      },
    };
  }
  return true;
}

/** Whether the exit hooks are installed now (for tests and diagnostics). */
export function exitHooksInstalled(): boolean {
  return installed !== undefined;
}

/** Removes every hook installExitHooks added (idempotent). */
export function removeExitHooks(): void {
  const hooks = installed;
  installed = undefined;
  hooks?.remove();
}
