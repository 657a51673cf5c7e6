/**
 * The process-level calls of the CLI, through `node:process` (both runtimes implement
 * it): output that is flushed before exit, terminal facts, signals. The only file in
 * src/cli/ that touches the process object.
 */
import process from "node:process";

/** The arguments after the script. */
export function argv(): string[] {
  return process.argv.slice(2);
}

function brokenPipe(e: unknown): boolean {
  return (e as { code?: unknown })?.code === "EPIPE";
}

/**
 * Makes a closed stdout (`shmkit watch --json | head -1`) end the command quietly with
 * exit code 0 instead of an EPIPE stack trace. Called once by main().
 */
export function exitOnBrokenPipe(): void {
  process.stdout.on("error", (e: unknown) => {
    if (brokenPipe(e)) process.exit(0);
  });
}

/** Writes to stdout; resolves once the runtime has taken the bytes (so an exit does not lose them). */
export function out(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (text === "") return resolve();
    try {
      process.stdout.write(text, () => resolve());
    } catch (e) {
      if (brokenPipe(e)) process.exit(0); // the reader went away: nothing left to say
      reject(e);
    }
  });
}

/** Writes to stderr, flushed like `out`. */
export function err(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (text === "") return resolve();
    process.stderr.write(text, () => resolve());
  });
}

/** Synchronous best-effort write (for restoring the terminal from an exit handler). */
export function outNow(text: string): void {
  try {
    process.stdout.write(text);
  } catch {
    // Nothing left to do at exit.
  }
}

/** True when stdout is a terminal. */
export function stdoutIsTTY(): boolean {
  return process.stdout.isTTY === true;
}

/** The terminal size (80×24 when unknown). */
export function terminalSize(): { columns: number; rows: number } {
  const columns = Number(process.stdout.columns) || 80;
  const rows = Number(process.stdout.rows) || 24;
  return { columns, rows };
}

/** An environment variable, or undefined (also when the runtime denies access). */
export function env(name: string): string | undefined {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
}

/** Keys pressed, raw (no echo, no line buffering) while `stop()` has not been called; null without a terminal. */
export function rawKeys(onKey: (key: string) => void): { stop(): void } | null {
  const stdin = process.stdin as typeof process.stdin & { setRawMode?: (raw: boolean) => void; isTTY?: boolean };
  if (stdin.isTTY !== true || typeof stdin.setRawMode !== "function") return null;
  const onData = (chunk: Uint8Array | string) => onKey(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk));
  stdin.setRawMode(true);
  stdin.on("data", onData);
  stdin.resume();
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      stdin.off("data", onData);
      try {
        stdin.setRawMode!(false);
      } catch {
        // The terminal went away.
      }
      stdin.pause();
    },
  };
}

/** Calls `fn` on SIGINT / SIGTERM / SIGHUP (instead of dying); returns a function that removes the handlers. */
export function onSignals(fn: (signal: string) => void): () => void {
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const handlers = signals.map((s) => {
    const h = () => fn(s);
    try {
      process.on(s, h);
    } catch {
      // This runtime cannot listen for that signal.
    }
    return [s, h] as const;
  });
  return () => {
    for (const [s, h] of handlers) {
      try {
        process.off(s, h);
      } catch {
        // Already gone.
      }
    }
  };
}

/** Runs `fn` when the process exits, however it exits (for restoring the terminal). */
export function onExit(fn: () => void): () => void {
  process.on("exit", fn);
  return () => process.off("exit", fn);
}

/** Calls `fn` when the terminal is resized. */
export function onResize(fn: () => void): () => void {
  process.stdout.on("resize", fn);
  return () => process.stdout.off("resize", fn);
}

/** Ends the process with `code` (after output was flushed with `out`). */
export function exit(code: number): never {
  process.exit(code);
}
