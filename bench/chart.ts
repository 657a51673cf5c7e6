/**
 * SVG charts of bench/results/vs-c.json (rows from bench/vs_c.ts), drawn as plain SVG
 * text with no dependencies: horizontal bars on a log scale, one group per transport,
 * one bar per runtime pair and one for C. bench/report.ts writes them into docs/bench/.
 *
 *   throughputSvg(rows)  messages per second (best round), cross-process and same-thread
 *   latencySvg(rows)     round-trip p50 (bar) and p99.9 (tick), per transport
 */
import type { Pair, Row } from "./vs_c.ts";

const SERIES: { key: "c" | Pair; label: string; color: string }[] = [
  { key: "c", label: "C (same run)", color: "#6b7280" },
  { key: "deno", label: "Deno ↔ Deno", color: "#2563eb" },
  { key: "bun", label: "Bun ↔ Bun", color: "#d97706" },
  { key: "deno-bun", label: "Deno → Bun", color: "#059669" },
];

interface Bar {
  key: string;
  value: number;
  /** Optional second value drawn as a tick on the bar's row (p99.9). */
  tick?: number;
}
interface Group {
  label: string;
  bars: Bar[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const si = (x: number, unit: string) => {
  const [d, p] = x >= 1e9 ? [1e9, "G"] : x >= 1e6 ? [1e6, "M"] : x >= 1e3 ? [1e3, "k"] : [1, ""];
  const v = x / d;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${p}${unit}`;
};
const ns = (
  x: number,
) => (x >= 1e6 ? `${(x / 1e6).toFixed(1)} ms` : x >= 1e3 ? `${(x / 1e3).toFixed(x >= 1e4 ? 0 : 1)} µs` : `${x.toFixed(0)} ns`);

/** A horizontal bar chart on a log10 axis. */
function barChart(title: string, subtitle: string, groups: Group[], format: (x: number) => string, axisLabel: string): string {
  const values = groups.flatMap((g) => g.bars.flatMap((b) => (b.tick === undefined ? [b.value] : [b.value, b.tick])));
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  const left = 190;
  const plot = 560;
  const barH = 11;
  const groupGap = 14;
  const top = 64;
  const x = (v: number) => left + ((Math.log10(v) - lo) / (hi - lo || 1)) * plot;
  const out: string[] = [];
  let y = top;
  for (const g of groups) {
    out.push(
      `<text x="${left - 8}" y="${y + (g.bars.length * barH) / 2 + 4}" text-anchor="end" class="g">${esc(g.label)}</text>`,
    );
    for (const b of g.bars) {
      const s = SERIES.find((s) => s.key === b.key)!;
      const w = Math.max(1, x(b.value) - left);
      out.push(
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${s.color}"><title>${esc(s.label)}: ${
          format(b.value)
        }</title></rect>`,
      );
      let end = left + w;
      if (b.tick !== undefined) {
        const tx = x(b.tick);
        out.push(
          `<line x1="${left + w}" x2="${tx.toFixed(1)}" y1="${y + barH / 2 - 1}" y2="${
            y + barH / 2 - 1
          }" stroke="${s.color}" stroke-dasharray="2 2"/>`,
        );
        out.push(
          `<rect x="${(tx - 1).toFixed(1)}" y="${y}" width="2" height="${barH - 2}" fill="${s.color}"><title>p99.9 ${
            format(b.tick)
          }</title></rect>`,
        );
        end = Math.max(end, tx);
      }
      const label = b.tick === undefined ? format(b.value) : `${format(b.value)} / ${format(b.tick)}`;
      out.push(`<text x="${(end + 4).toFixed(1)}" y="${y + barH - 3}" class="v">${esc(label)}</text>`);
      y += barH;
    }
    y += groupGap;
  }
  const height = y + 40;
  const grid: string[] = [];
  for (let e = lo; e <= hi; e++) {
    const gx = x(10 ** e);
    grid.push(`<line x1="${gx.toFixed(1)}" x2="${gx.toFixed(1)}" y1="${top - 6}" y2="${y - groupGap + 4}" class="grid"/>`);
    grid.push(
      `<text x="${gx.toFixed(1)}" y="${y - groupGap + 18}" text-anchor="middle" class="v">${esc(format(10 ** e))}</text>`,
    );
  }
  const legend = SERIES.map((s, i) =>
    `<rect x="${left + i * 140}" y="${height - 16}" width="10" height="10" fill="${s.color}"/><text x="${
      left + i * 140 + 14
    }" y="${height - 7}" class="v">${esc(s.label)}</text>`
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="${height}" viewBox="0 0 900 ${height}" font-family="system-ui, sans-serif">`,
    `<style>.g{font-size:12px;fill:#111}.v{font-size:10px;fill:#374151}.grid{stroke:#e5e7eb}.t{font-size:15px;font-weight:600}.s{font-size:11px;fill:#4b5563}</style>`,
    `<rect width="900" height="${height}" fill="#fff"/>`,
    `<text x="16" y="22" class="t">${esc(title)}</text>`,
    `<text x="16" y="40" class="s">${esc(subtitle)}</text>`,
    `<text x="${left + plot / 2}" y="${y - groupGap + 32}" text-anchor="middle" class="s">${esc(axisLabel)}</text>`,
    ...grid,
    ...out,
    ...legend,
    `</svg>`,
    "",
  ].join("\n");
}

function find(rows: Row[], workload: string, pair: Pair): Row | undefined {
  return rows.find((r) => r.workload === workload && r.runtime === pair);
}

/** The C bar of a group: the best C round over the pairs' runs (every pair ran its own C next to it). */
function cBest(rows: Row[], workload: string, pick: (r: Row) => number): number | undefined {
  const cs = rows.filter((r) => r.workload === workload).map(pick);
  return cs.length ? Math.min(...cs) : undefined;
}

function subtitleOf(rows: Row[]): string {
  const m = rows[0].machine;
  return `${m.cpu}, ${m.cores} cores, Deno ${m.deno}, Bun ${m.bun}, ${
    m.date.slice(0, 10)
  }, best of ${m.rounds} interleaved rounds`;
}

/** Throughput per structure and runtime pair; bulk groups show C's own bulk rate. */
export function throughputSvg(rows: Row[]): string {
  const groups: Group[] = [];
  const spec: [string, string, string][] = [
    ["spsc-1", "spsc-1", "SpscQueue, 8 B, 1/call"],
    ["mpmc-1", "mpmc-1", "Queue, 8 B, 1/call"],
    ["ring-1", "ring-1", "RingBuffer, 8 B, 1/call"],
    ["spsc-bulk64", "spsc-bulk64-cbulk", "SpscQueue, 8 B, 64/call"],
    ["mpmc-bulk64", "mpmc-bulk64-cbulk", "Queue, 8 B, 64/call"],
    ["ring-bulk64", "ring-bulk64-cbulk", "RingBuffer, 8 B, 64/call"],
    ["spsc-struct64", "spsc-struct64", "SpscQueue, 64 B struct"],
    ["mpmc-struct64", "mpmc-struct64", "Queue, 64 B struct"],
    ["same-thread-spsc", "same-thread-spsc", "SpscQueue, same thread"],
    ["same-thread-mpmc", "same-thread-mpmc", "Queue, same thread"],
  ];
  for (const [workload, cWorkload, label] of spec) {
    const bars: Bar[] = [];
    const c = cBest(rows, cWorkload, (r) => r.c);
    if (c !== undefined) bars.push({ key: "c", value: 1e9 / c });
    for (const pair of ["deno", "bun", "deno-bun"] as const) {
      const r = find(rows, workload, pair);
      if (r) bars.push({ key: pair, value: 1e9 / r.shmkit });
    }
    if (bars.length) groups.push({ label, bars });
  }
  return barChart(
    "Throughput: messages per second (higher is better)",
    subtitleOf(rows),
    groups,
    (x) => si(x, "/s"),
    "messages per second, log scale",
  );
}

/** Round-trip latency per transport: p50 bars, p99.9 ticks. */
export function latencySvg(rows: Row[]): string {
  const spec: [string, string, string][] = [
    ["rtt-p50", "rtt-p99.9", "spin ping-pong (SpscQueue)"],
    ["async-rtt", "async-rtt-p99.9", "await popAsync (C: spin)"],
    ["futex-rtt", "futex-rtt-p99.9", "park every time (futex)"],
    ["park-rtt", "", "park every time, async"],
    ["socket-rtt", "", "Unix socket"],
    ["pipe-rtt", "", "pipe"],
  ];
  const groups: Group[] = [];
  for (const [p50, p999, label] of spec) {
    const bars: Bar[] = [];
    const all = rows.filter((r) => r.workload === p50);
    if (all.length === 0) continue;
    const cRow = all.reduce((a, b) => (b.c < a.c ? b : a));
    const cTick = p999 ? cBest(rows, p999, (r) => r.c) : cRow.percentiles?.c.p999;
    bars.push({ key: "c", value: cRow.c, tick: cTick });
    for (const pair of ["deno", "bun", "deno-bun"] as const) {
      const r = find(rows, p50, pair);
      if (!r) continue;
      const tick = p999 ? find(rows, p999, pair)?.shmkit : r.percentiles?.shmkit.p999;
      bars.push({ key: pair, value: r.shmkit, tick });
    }
    groups.push({ label, bars });
  }
  return barChart(
    "Round-trip latency: p50 bar, p99.9 tick (lower is better)",
    subtitleOf(rows),
    groups,
    ns,
    "one round trip between two processes, log scale",
  );
}
