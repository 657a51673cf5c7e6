/**
 * The `shmkit` command: `ls`, `inspect NAME`, `watch NAME [--web]`, `rm NAME`, `gc`.
 * Each takes `--json` (stable output, docs/CLI.md) and `--help`; exit codes are the
 * `Exit` values below. Everything it reads goes through src/inspect/ (read-only,
 * no native library), so it works without FFI permission.
 */
import type { SegmentListing, SegmentReport } from "../segment/inspection.ts";
import { ShmError } from "../errors.ts";
import { collectGarbage, inspectSegment, listSegments, removeSegment } from "../inspect/mod.ts";
import { Exit, exitForState, SCHEMA } from "./codes.ts";
import { type FlagSpec, intFlag, parse, type Parsed, stringFlag, UsageError } from "./args.ts";
import { listText, reportText } from "./format.ts";
import { err, exitOnBrokenPipe, out } from "./io.ts";
import { watch } from "./watch.ts";

const GENERAL_HELP = `shmkit — list, inspect, watch and clean shmkit shared memory segments (/dev/shm)

Usage: shmkit <command> [options]

Commands:
  ls                 list segments: state, size, owner, attached processes
  inspect NAME       a segment's table and every structure: fill, counters, waiters, owners
  watch NAME         live view (fill bars, rates per second, processes); --web serves a page
  rm NAME            remove a segment (refuses while live processes use it, without --force)
  gc                 remove stale segments (every attached process dead) and half-created ones

Every command takes --json (machine-readable output) and --help.
Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 needs --force, 5 not a shmkit segment,
            6 corrupt/unsupported/half-created, 7 permission denied.
Reading never maps, locks or writes a segment, and needs no native library.
`;

const HELP: Record<string, string> = {
  ls: `Usage: shmkit ls [--all] [--prefix STR] [--json]

Lists the shmkit segments in /dev/shm: state (ready, initialising, half-created, corrupt,
unsupported, empty, unreadable), size, format version, owner, mode, creation time,
attached processes (live and dead) and number of structures. Segments whose every
attached process is dead are marked stale.

  --all          also list files that are not shmkit segments (state foreign)
  --prefix STR   only names starting with STR
  --json         {"schema":1,"segments":[...]} (docs/CLI.md)

Exit: 0, or 1/7 when /dev/shm cannot be read.
`,
  inspect: `Usage: shmkit inspect NAME [--json]

Shows one segment: header, heap and table usage, the metadata lock, attached processes,
and every structure with kind, element type, capacity, fill, counters (pushes, pops,
published, recovered...), waiters, and its owner/writer/holders with liveness.

  --json         {"schema":1,"segment":{...}} (docs/CLI.md)

Exit: 0 ready or initialising, 3 not found, 5 not a shmkit segment (foreign, empty),
      6 corrupt / unsupported / half-created (or a structure in it is corrupt), 7 permission denied.
`,
  watch: `Usage: shmkit watch NAME [--interval MS] [--count N] [--json] [--web [--port N]]

Redraws the segment's structures in place: fill bars, rates per second, waiters,
owners and attached processes. q or Ctrl-C quits and restores the terminal. Without
a terminal (or with --json) it prints one line per interval instead.

  --interval MS  sampling period in milliseconds (default 1000, at least 50)
  --count N      stop after N samples (default: until q / Ctrl-C)
  --json         one JSON object per line: {"schema":1,"segment":{...},"rates":{...}}
  --web          serve a live page on http://127.0.0.1:PORT/ (fill and throughput plotted
                 over the last minutes, attached processes); Ctrl-C stops
  --port N       port for --web (default 7465, "shmk" on a phone keypad; 0 picks a free one)

Exit: 0 when stopped, 3/5/6/7 as for inspect when the segment cannot be watched.
`,
  rm: `Usage: shmkit rm NAME [--force] [--json]

Removes a segment's name from /dev/shm (processes that have it mapped keep working).
Refused while live processes are attached, while it is being created, or when it is
empty, corrupt or of another format version — unless --force. Files that are not shmkit
segments (or that cannot be read to check) are never removed.

  --force        remove it anyway
  --json         {"schema":1,"name":...,"outcome":"removed"|"needs-force"|"refused"|"failed",...}

Exit: 0 removed, 3 not found, 4 needs --force, 5 not a shmkit segment, 7 permission denied, 1 other failure.
`,
  gc: `Usage: shmkit gc [--dry-run] [--prefix STR] [--detached] [--json]

Removes stale segments — ready ones whose every attached process is dead — and
half-created ones whose creator died. Live, initialising, corrupt, empty, unreadable
and foreign files are never removed.

  --dry-run      only show what would be removed
  --prefix STR   only names starting with STR
  --detached     also remove ready segments with no process attached at all
                 (by default kept: a segment persists until unlinked, by design)
  --json         {"schema":1,"dryRun":...,"removed":[...],"failed":[...]}

Exit: 0, or 1 when some segment could not be removed.
`,
};

const SPECS: Record<string, FlagSpec> = {
  ls: { json: false, all: false, prefix: true },
  inspect: { json: false },
  watch: { json: false, interval: true, count: true, web: false, port: true },
  rm: { json: false, force: false },
  gc: { json: false, "dry-run": false, prefix: true, detached: false },
};

/** Prints a JSON document (one line when `compact`). */
export function json(value: unknown, compact = false): Promise<void> {
  return out(JSON.stringify(value, null, compact ? undefined : 2) + "\n");
}

function exitForError(e: ShmError): number {
  switch (e.code) {
    case "NOT_FOUND":
      return Exit.NOT_FOUND;
    case "INVALID_ARGUMENT":
      return Exit.USAGE;
    case "PERMISSION":
      return Exit.PERMISSION;
    default:
      return Exit.ERROR;
  }
}

function oneName(command: string, p: Parsed): string {
  if (p.positional.length !== 1) throw new UsageError(`${command} needs exactly one segment NAME`, command);
  return p.positional[0];
}

async function ls(p: Parsed): Promise<number> {
  if (p.positional.length > 0) throw new UsageError("ls takes no arguments (use --prefix)", "ls");
  const all = p.flags.has("all");
  const prefix = stringFlag(p, "prefix");
  const listed: SegmentListing[] = listSegments({ all: true, prefix });
  const shown = all ? listed : listed.filter((s) => s.state !== "foreign");
  if (p.flags.has("json")) await json({ schema: SCHEMA, segments: shown });
  else await out(listText(shown, listed.length - shown.length));
  return Exit.OK;
}

async function inspect(p: Parsed): Promise<number> {
  const r: SegmentReport = inspectSegment(oneName("inspect", p));
  if (p.flags.has("json")) await json({ schema: SCHEMA, segment: r });
  else await out(reportText(r));
  const code = exitForState(r.state);
  return code === Exit.OK && r.entries.some((e) => e.state === "corrupt") ? Exit.DAMAGED : code;
}

async function rm(p: Parsed): Promise<number> {
  const r = removeSegment(oneName("rm", p), { force: p.flags.has("force") });
  if (p.flags.has("json")) {
    await json({ schema: SCHEMA, name: r.name, outcome: r.outcome, reason: r.reason, segment: r.segment });
  } else if (r.outcome === "removed") {
    await out(`removed ${r.name}: ${r.reason}\n`);
  } else {
    await err(`shmkit rm: ${r.name} not removed: ${r.reason}${r.outcome === "needs-force" ? " (--force removes it)" : ""}\n`);
  }
  switch (r.outcome) {
    case "removed":
      return Exit.OK;
    case "needs-force":
      return Exit.NEEDS_FORCE;
    case "refused":
      return r.segment.state === "unreadable" ? Exit.PERMISSION : Exit.NOT_SHMKIT;
    case "failed":
      return /permission denied/.test(r.reason) ? Exit.PERMISSION : Exit.ERROR;
  }
}

async function gc(p: Parsed): Promise<number> {
  if (p.positional.length > 0) throw new UsageError("gc takes no arguments (use --prefix)", "gc");
  const r = collectGarbage({
    dryRun: p.flags.has("dry-run"),
    prefix: stringFlag(p, "prefix"),
    detached: p.flags.has("detached"),
  });
  if (p.flags.has("json")) {
    await json({ schema: SCHEMA, ...r });
  } else {
    const verb = r.dryRun ? "would remove" : "removed";
    let t = r.removed.map((x) => `${verb} ${x.name} (${x.state}): ${x.reason}\n`).join("");
    if (r.removed.length === 0) t += `nothing to remove\n`;
    await out(t);
    if (r.failed.length > 0) await err(r.failed.map((x) => `shmkit gc: could not remove ${x.name}: ${x.reason}\n`).join(""));
  }
  return r.failed.length > 0 ? Exit.ERROR : Exit.OK;
}

async function watchCommand(p: Parsed): Promise<number> {
  const name = oneName("watch", p);
  return await watch(name, {
    intervalMs: intFlag(p, "interval", 50, 3_600_000, 1000, "watch"),
    count: p.flags.has("count") ? intFlag(p, "count", 1, Number.MAX_SAFE_INTEGER, 1, "watch") : undefined,
    json: p.flags.has("json"),
    web: p.flags.has("web"),
    port: intFlag(p, "port", 0, 65535, 7465, "watch"),
  });
}

const COMMANDS: Record<string, (p: Parsed) => Promise<number>> = { ls, inspect, watch: watchCommand, rm, gc };

/**
 * Runs the command line `args` (without the program name); resolves with the exit code.
 *
 * @example
 * ```ts
 * import { main } from "@shmkit/shmkit/cli";
 * import assert from "node:assert/strict";
 * assert.equal(await main(["inspect", "doc-absent-" + crypto.randomUUID().slice(0, 8)]), 3); // not found
 * assert.equal(await main(["frobnicate"]), 2); // usage
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  exitOnBrokenPipe();
  const [command, ...rest] = args;
  const wantsJson = rest.includes("--json");
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    const topic = command === "help" ? rest[0] : undefined;
    await out(topic !== undefined && topic in HELP ? HELP[topic] : GENERAL_HELP);
    return command === undefined ? Exit.USAGE : Exit.OK;
  }
  const run = COMMANDS[command];
  try {
    if (run === undefined) throw new UsageError(`unknown command "${command}"`);
    const p = parse(command, rest, SPECS[command]);
    if (p.flags.has("help")) {
      await out(HELP[command]);
      return Exit.OK;
    }
    return await run(p);
  } catch (e) {
    if (e instanceof UsageError) {
      if (wantsJson) await json({ schema: SCHEMA, error: { code: "USAGE", message: e.message } });
      await err(`shmkit: ${e.message}\n\n${e.command ? HELP[e.command] : GENERAL_HELP}`);
      return Exit.USAGE;
    }
    if (e instanceof ShmError) {
      if (wantsJson) await json({ schema: SCHEMA, error: { code: e.code, message: e.message } });
      else await err(`shmkit: ${e.message}\n`);
      return exitForError(e);
    }
    const message = e instanceof Error ? e.stack ?? e.message : String(e);
    if (wantsJson) await json({ schema: SCHEMA, error: { code: "ERROR", message: String(e) } });
    await err(`shmkit: unexpected error: ${message}\n`);
    return Exit.ERROR;
  }
}
