/**
 * `shmkit watch NAME`: samples the segment every interval (a read-only inspection)
 * and shows it — redrawn in place on a terminal (alternate screen, fill bars, rates
 * per second, processes; q or Ctrl-C quits and restores the terminal), one line per
 * sample without one (text or `--json`), or as a live web page (`--web`, web.ts).
 */
import type { SegmentReport, StructureReport } from "../segment/inspection.ts";
import { inspectSegment } from "../inspect/mod.ts";
import { exitForState, SCHEMA } from "./codes.ts";
import {
  bytes,
  cell,
  count,
  detailsText,
  fillText,
  liveness,
  processSummary,
  reportText,
  safe,
  waitersText,
  whoText,
} from "./format.ts";
import { err, onExit, onResize, onSignals, out, outNow, rawKeys, stdoutIsTTY, terminalSize } from "./io.ts";
import { type Sample, Sampler, Stopper } from "./sampler.ts";
import { serveWeb } from "./web.ts";

/** Options of `watch`. */
export interface WatchOptions {
  intervalMs: number;
  /** Stop after this many samples. */
  count?: number;
  json: boolean;
  web: boolean;
  port: number;
}

/** Runs `watch`; resolves with the exit code. */
export async function watch(name: string, o: WatchOptions): Promise<number> {
  const first = inspectSegment(name); // NOT_FOUND propagates (exit 3)
  const code = exitForState(first.state);
  if (code !== 0) {
    if (o.json) await out(JSON.stringify({ schema: SCHEMA, segment: first }) + "\n");
    else await err(reportText(first));
    return code;
  }
  const stopper = new Stopper();
  const offSignals = onSignals(() => stopper.stop());
  try {
    if (o.web) return await serveWeb(name, o, stopper);
    if (stdoutIsTTY() && !o.json) return await screen(name, o, stopper);
    return await lines(name, o, stopper);
  } finally {
    offSignals();
  }
}

/** Without a terminal: one line (text or JSON) per sample. */
async function lines(name: string, o: WatchOptions, stopper: Stopper): Promise<number> {
  const sampler = new Sampler(name);
  for (let n = 0; !stopper.done && (o.count === undefined || n < o.count); n++) {
    if (n > 0) await stopper.sleep(o.intervalMs);
    if (stopper.done) break;
    const s = sampler.sample();
    await out(
      o.json ? JSON.stringify({ schema: SCHEMA, time: s.time, segment: s.report, rates: s.rates }) + "\n" : lineText(name, s),
    );
  }
  return 0;
}

/** "10:00:03 jobs ready, 2 live | q queue 5/10 pushes 12/s pops 10/s | ..." */
export function lineText(name: string, s: Sample): string {
  const t = new Date(s.time).toISOString().slice(11, 23);
  if (s.report === null) return `${t} ${name} gone\n`;
  const r = s.report;
  const parts = [`${t} ${name} ${r.state}, processes ${processSummary(r)}`];
  for (const e of r.entries) {
    const rate = s.rates[e.name];
    const counters = Object.keys(e.counters).map((k) => `${k} ${rate?.[k] === undefined ? "-" : count(rate[k])}/s`);
    parts.push([e.name, e.kindName, e.fill === null ? "" : `${e.fill}/${e.capacity}`, ...counters].filter((x) => x).join(" "));
  }
  return safe(parts.join(" | ")) + "\n";
}

const ENTER = "\x1b[?1049h\x1b[?25l"; // alternate screen, hide cursor
const LEAVE = "\x1b[?25h\x1b[?1049l"; // show cursor, main screen
const HOME = "\x1b[H";
const CLEAR_LINE = "\x1b[K";
const CLEAR_BELOW = "\x1b[J";
const BOLD = "\x1b[1m";
const DIM = "\x1b[2m";
const RED = "\x1b[31m";
const GREEN = "\x1b[32m";
const YELLOW = "\x1b[33m";
const RESET = "\x1b[0m";

/** On a terminal: redraw in place until q / Ctrl-C, then restore the terminal. */
async function screen(name: string, o: WatchOptions, stopper: Stopper): Promise<number> {
  const sampler = new Sampler(name);
  let last: Sample | undefined;
  let restored = false;
  const keys = rawKeys((k) => {
    if (k.includes("q") || k.includes("Q") || k.includes("\x03")) stopper.stop();
  });
  const restore = () => {
    if (restored) return;
    restored = true;
    keys?.stop();
    outNow(LEAVE);
  };
  const offExit = onExit(restore);
  const draw = () => {
    if (last !== undefined && !stopper.done) outNow(render(name, last, o.intervalMs));
  };
  const offResize = onResize(draw);
  try {
    await out(ENTER);
    for (let n = 0; !stopper.done && (o.count === undefined || n < o.count); n++) {
      if (n > 0) await stopper.sleep(o.intervalMs);
      if (stopper.done) break;
      last = sampler.sample();
      draw();
    }
  } finally {
    offResize();
    restore();
    offExit();
  }
  return 0;
}

function colourState(r: SegmentReport): string {
  return r.state === "ready" ? `${GREEN}ready${RESET}` : `${YELLOW}${r.state}${RESET}`;
}

/** A fill bar of `width` cells. */
export function bar(fill: number, capacity: number, width: number): string {
  const f = capacity > 0 ? Math.max(0, Math.min(1, fill / capacity)) : 0;
  const full = Math.round(f * width);
  return "█".repeat(full) + "░".repeat(width - full);
}

/** The whole screen for one sample. */
export function render(name: string, s: Sample, intervalMs: number): string {
  const { columns, rows } = terminalSize();
  const lines: string[] = [];
  const clock = new Date(s.time).toTimeString().slice(0, 8);
  const r = s.report;
  lines.push(
    `${BOLD}shmkit watch ${safe(name)}${RESET}  ${r ? colourState(r) : `${RED}gone${RESET}`}  ${
      r ? bytes(r.size) : ""
    }  ${clock}  ${DIM}every ${intervalMs} ms · q quits${RESET}`,
  );
  if (r === null) {
    lines.push("", "the segment does not exist (removed?); waiting for it to come back");
  } else {
    const heap = r.heap ? `heap ${bytes(r.heap.used)} of ${bytes(r.heap.size)}` : "";
    lines.push(
      `${DIM}processes ${processSummary(r)}  ·  ${r.entries.length} structures  ·  ${heap}${
        r.metaLock ? `  ·  lock held by ${r.metaLock.pid}` : ""
      }${RESET}`,
    );
    lines.push("");
    const barWidth = Math.max(8, Math.min(30, columns - 100));
    lines.push(
      `${BOLD}${cell("NAME", 16)} ${cell("KIND", 10)} ${cell("TYPE", 22)} ${
        cell("FILL", barWidth + 18)
      } ${"RATE /s · WAITERS · OWNER"}${RESET}`,
    );
    const room = Math.max(1, rows - lines.length - 4 - Math.min(6, r.attached.length));
    const shown = r.entries.slice(0, room);
    for (const e of shown) lines.push(structureLine(e, s.rates[e.name], barWidth));
    if (r.entries.length > shown.length) lines.push(`${DIM}… ${r.entries.length - shown.length} more${RESET}`);
    lines.push("");
    lines.push(`${BOLD}PROCESSES${RESET}`);
    if (r.attached.length === 0) lines.push(`  ${DIM}none attached${RESET}`);
    const procs = r.attached.map((p) =>
      `${p.pid}${p.worker ? `/${p.tid}` : ""} ${p.alive === false ? `${RED}dead${RESET}` : liveness(p)}`
    );
    for (let i = 0; i < procs.length; i += 6) lines.push("  " + procs.slice(i, i + 6).join("   "));
  }
  // Cut every line to the width (ignoring colour codes when measuring), then clear what the last frame left.
  const fitted = lines.slice(0, rows).map((l) => fit(l, columns) + CLEAR_LINE);
  return HOME + fitted.join("\r\n") + CLEAR_BELOW;
}

function structureLine(e: StructureReport, rate: Readonly<Record<string, number>> | undefined, barWidth: number): string {
  const fill = e.fill === null ? cell("", barWidth + 18) : `${bar(e.fill, e.capacity, barWidth)} ${cell(fillText(e), 17)}`;
  const rates = Object.keys(e.counters).map((k) => `${k} ${rate?.[k] === undefined ? "-" : count(rate[k])}`).join(" ");
  const extra = [rates, waitersText(e) ? `waiting: ${waitersText(e)}` : "", whoText(e), safe(detailsText(e))].filter((x) => x)
    .join(
      " · ",
    );
  const problem = e.problem ? `${RED}${safe(e.problem)}${RESET}` : "";
  return `${cell(e.name, 16)} ${cell(e.kindName, 10)} ${cell(e.type ?? "-", 22)} ${fill} ${extra}${problem}`;
}

/** Cuts a string with ANSI colour codes to `width` visible characters. */
function fit(line: string, width: number): string {
  let visible = 0;
  let outText = "";
  for (let i = 0; i < line.length;) {
    if (line[i] === "\x1b") {
      const end = line.indexOf("m", i);
      if (end < 0) break;
      outText += line.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    const cp = line.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    if (visible >= width) break;
    outText += ch;
    visible++;
    i += ch.length;
  }
  return outText + RESET;
}
