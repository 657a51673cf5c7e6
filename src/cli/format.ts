/**
 * Human-readable text for the CLI: byte sizes, rates, tables, and the `ls` and
 * `inspect` reports. (`--json` output is the reports themselves; see docs/CLI.md.)
 */
import type { AttachedProcess, ProcessRef, SegmentListing, SegmentReport, StructureReport } from "../segment/inspection.ts";

/** 1536 → "1.5 KiB". */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** 1234.5 → "1.2k", 3 → "3". */
export function count(n: number): string {
  const a = Math.abs(n);
  if (a < 1000) return Number.isInteger(n) ? String(n) : n.toFixed(a < 10 ? 1 : 0);
  if (a < 1e6) return `${(n / 1e3).toFixed(a < 1e4 ? 1 : 0)}k`;
  if (a < 1e9) return `${(n / 1e6).toFixed(a < 1e7 ? 1 : 0)}M`;
  return `${(n / 1e9).toFixed(1)}G`;
}

/** "2026-12-01 10:00:03" in local time. */
export function when(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "?";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${
    p(d.getSeconds())
  }`;
}

/** Octal permission bits: 0o600 → "0600". */
export function mode(m: number): string {
  return m.toString(8).padStart(4, "0");
}

/** "alive" / "dead" / "unknown". */
export function liveness(p: ProcessRef): string {
  return p.alive === true ? "alive" : p.alive === false ? "dead" : "unknown";
}

/**
 * Text from a segment (names come from untrusted bytes) made safe to print: control
 * characters, which could drive the terminal (escape sequences), become "?".
 */
export function safe(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

/** Column text (made safe), padded and cut to `width` code points. */
export function cell(s: string, width: number, right = false): string {
  s = safe(s);
  const chars = [...s];
  if (chars.length > width) return chars.slice(0, Math.max(0, width - 1)).join("") + "…";
  const pad = " ".repeat(width - chars.length);
  return right ? pad + s : s + pad;
}

/** A plain text table: widths from the content, the last column left free. */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: ReadonlySet<number> = new Set(),
): string {
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? "")].length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i === r.length - 1 && !rightAligned.has(i) ? safe(c) : cell(c, widths[i], rightAligned.has(i)))).join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** "2 live, 1 dead" for a listing's processes. */
export function processSummary(s: SegmentListing): string {
  if (s.attached.length === 0) return s.state === "ready" ? "none" : "-";
  return s.deadProcesses === 0 ? `${s.liveProcesses} live` : `${s.liveProcesses} live, ${s.deadProcesses} dead`;
}

/** The `ls` table. */
export function listText(list: readonly SegmentListing[], hiddenForeign: number): string {
  if (list.length === 0) {
    return `no shmkit segments in /dev/shm${hiddenForeign > 0 ? ` (${hiddenForeign} other file(s); --all lists them)` : ""}\n`;
  }
  const rows = list.map((s) => [
    s.name,
    s.stale ? `${s.state} (stale)` : s.state,
    bytes(s.size),
    s.formatVersion === null ? "-" : String(s.formatVersion),
    s.user ?? (s.uid >= 0 ? String(s.uid) : "?"),
    mode(s.mode),
    when(s.created),
    processSummary(s),
    s.structures === null ? "-" : String(s.structures),
    s.reason,
  ]);
  let text = table(
    ["NAME", "STATE", "SIZE", "VER", "OWNER", "MODE", "CREATED", "PROCESSES", "STRUCTS", "NOTE"],
    rows,
    new Set([2, 8]),
  );
  if (hiddenForeign > 0) text += `(${hiddenForeign} other file(s) not shown; --all lists them)\n`;
  return text;
}

/** "pushes 12 pops 10" — counters, or rates when given. */
export function countersText(s: StructureReport, rates?: Readonly<Record<string, number>>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(s.counters)) {
    const r = rates?.[k];
    parts.push(rates === undefined ? `${k} ${count(v)}` : `${k} ${r === undefined ? "-" : count(r)}/s`);
  }
  return parts.join("  ");
}

/** "12/100 (12%)" or "-". */
export function fillText(s: StructureReport): string {
  if (s.fill === null) return "-";
  const pct = s.capacity > 0 ? Math.round((100 * s.fill) / s.capacity) : 0;
  return `${s.fill}/${s.capacity} (${pct}%)`;
}

/** Waiters as "notEmpty 1" (only the non-zero ones), or "". */
export function waitersText(s: StructureReport): string {
  return Object.entries(s.waiters).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(" ");
}

/** Owner and holders: "producer 123 alive; permits 41×2 alive". */
export function whoText(s: StructureReport): string {
  const parts: string[] = [];
  if (s.owner) parts.push(`${s.owner.role} ${s.owner.pid} ${liveness(s.owner)}`);
  for (const h of s.holders) parts.push(`${h.role} ${h.pid}${h.count > 1 ? `×${h.count}` : ""} ${liveness(h)}`);
  return parts.join("; ");
}

/** Kind-specific details: "permits=2 initial=3". */
export function detailsText(s: StructureReport): string {
  return Object.entries(s.details).map(([k, v]) => `${k}=${v}`).join(" ");
}

/** The `inspect` text report. */
export function reportText(r: SegmentReport): string {
  let t = `segment ${safe(r.name)}: ${r.state}${r.reason ? ` — ${safe(r.reason)}` : ""}\n`;
  const owner = `owner ${r.user ?? r.uid} mode ${mode(r.mode)}`;
  const path = safe(r.path);
  t += r.uid < 0
    ? `  file      ${path}\n`
    : `  file      ${path}, ${bytes(r.size)}, ${safe(owner)}, created ${when(r.created)}\n`;
  if (r.formatVersion !== null) {
    t += `  format    version ${r.formatVersion}${r.unlinkOnLastClose ? ", unlink on last close" : ""}\n`;
  }
  if (r.creator) t += `  creator   pid ${r.creator.pid} (${liveness(r.creator)})\n`;
  if (r.geometry && r.heap) {
    const g = r.geometry;
    t += `  heap      ${bytes(r.heap.used)} used of ${bytes(r.heap.size)}, largest free block ${bytes(r.heap.largestFree)}\n`;
    t += `  table     ${
      r.structures ?? 0
    } of ${g.maxEntries} entries, names up to ${g.maxNameLength} bytes, ${g.maxProcesses} process slots\n`;
  }
  if (r.metaLock) t += `  lock      held by pid ${r.metaLock.pid} (${liveness(r.metaLock)})\n`;
  if (r.state !== "ready") return t;
  t += `\nprocesses (${r.attached.length}${r.deadProcesses > 0 ? `, ${r.deadProcesses} dead` : ""})\n`;
  const thread = (p: AttachedProcess) => (p.worker ? `Worker ${p.tid}` : "main");
  const procRows = r.attached.map((p) => [String(p.pid), thread(p), liveness(p), String(p.slot), String(p.startTime)]);
  t += r.attached.length === 0 ? "  none attached\n" : indent(table(["PID", "THREAD", "STATE", "SLOT", "START"], procRows));
  t += `\nstructures (${r.entries.length})\n`;
  if (r.entries.length === 0) return t + "  none\n";
  const rows = r.entries.map((s) => [
    s.name,
    s.state === "ready" ? s.kindName : `${s.kindName} (${s.state})`,
    s.type ?? (s.elemSize > 0 ? `${s.elemSize}-byte type 0x${s.typeHash.toString(16).padStart(8, "0")}` : "-"),
    String(s.capacity),
    fillText(s),
    countersText(s),
    waitersText(s),
    [whoText(s), detailsText(s), s.problem ? `PROBLEM: ${s.problem}` : ""].filter((x) => x).join("  "),
  ]);
  t += indent(table(["NAME", "KIND", "TYPE", "CAPACITY", "FILL", "COUNTERS", "WAITERS", "STATE"], rows, new Set([3])));
  return t;
}

function indent(s: string): string {
  return s.split("\n").map((l) => (l ? `  ${l}` : l)).join("\n");
}
