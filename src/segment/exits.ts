/**
 * Which segments this process closes when it exits (docs/LIFECYCLE.md): every open
 * segment with unlinkOnLastClose, unless it was opened with `cleanupOnExit: false`.
 * The exit hooks (ffi/exit.ts) are installed while at least one is open and removed
 * when the last one closes, so a program without such a segment has nothing installed.
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

/** `s` was closed: forget it; the hooks go with the last one. */
export function forgetOnExit(s: Closable): void {
  if (tracked.delete(s) && tracked.size === 0) removeExitHooks();
}
