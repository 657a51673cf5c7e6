/**
 * Which segments this process closes when it exits (docs/LIFECYCLE.md): every open
 * segment with unlinkOnLastClose, unless it was opened with `cleanupOnExit: false`.
 * The exit hooks (ffi/exit.ts) are installed while at least one is open and removed
 * right after the last one closes, so a program without such a segment has nothing installed.
 */
import { installExitHooks, removeExitHooks } from "../../ffi/exit.ts";

interface Closable {
  close(): void;
}

const tracked = new Set<Closable>();

function closeAll(): void {
  for (const s of [...tracked]) {
    try {
      s.close(); // detaches; the last live attachment also removes the name
    } catch {
      // The process is ending: close what can be closed.
    }
  }
  tracked.clear();
  removeExitHooks();
}

/** Closes `s` if the process ends before it is closed. False when exit hooks are unavailable or turned off. */
export function closeOnExit(s: Closable): boolean {
  if (tracked.size === 0 && !installExitHooks(closeAll)) return false;
  tracked.add(s);
  return true;
}

let removal = false;

/**
 * `s` was closed: forget it; the hooks go with the last one, at the end of the current
 * task (a microtask), so a loop that creates and closes segments installs them once
 * (measured in Deno: about 115 µs per install and removal). A signal in between finds
 * nothing to close and is re-raised as usual.
 */
export function forgetOnExit(s: Closable): void {
  if (!tracked.delete(s) || tracked.size > 0 || removal) return;
  removal = true;
  queueMicrotask(() => {
    removal = false;
    if (tracked.size === 0) removeExitHooks();
  });
}
