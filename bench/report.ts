/**
 * Turns bench/results/vs-c.json (written by `bash scripts/bench.sh --vs-c`) into the
 * documentation: the SVG charts in docs/bench/, the full table in docs/BENCHMARKS.md
 * and the summary table in README.md. Only the regions between the marker comments
 * are rewritten; everything else in those files is left as it is.
 *
 *   deno run -A bench/report.ts [results.json]      (deno task bench:report)
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { latencySvg, throughputSvg } from "./chart.ts";
import type { Pair, Row } from "./vs_c.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const PAIRS: Pair[] = ["deno", "bun", "deno-bun"];
const PAIR_LABEL: Record<Pair, string> = { deno: "Deno↔Deno", bun: "Bun↔Bun", "deno-bun": "Deno→Bun" };

const num = (x: number) => (x >= 1e4 ? x.toFixed(0) : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const time = (x: number, unit: string) => {
  if (unit === "ns/msg") return `${num(x)} ns`;
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} ms` : x >= 1e3 ? `${(x / 1e3).toFixed(x >= 1e4 ? 0 : 2)} µs` : `${x.toFixed(0)} ns`;
};
const rate = (r: Row, side: "shmkit" | "c") => (r.msgsPerSec ? ` (${num(r.msgsPerSec[side] / 1e6)} M/s)` : "");
const ratio = (x: number) => `${num(x)}x`;

/** One line on the machine and the run, from the rows' machine record. */
export function machineLine(rows: Row[]): string {
  const m = rows[0].machine;
  const load = m.load.length ? `${Math.min(...m.load)}–${Math.max(...m.load)}` : "unknown";
  return `${
    m.date.slice(0, 16).replace("T", " ")
  } UTC, ${m.cpu} (${m.cores} cores), Linux ${m.kernel}, Deno ${m.deno}, Bun ${m.bun}, ` +
    `C by zig ${m.zig} cc -O2; ${m.mode} run, ${m.rounds} rounds; 1-minute load average ${load} during the run`;
}

/** Every row: best and median on both sides, the ratios and the target. */
export function fullTable(rows: Row[]): string {
  const lines = [
    "| workload | runtime | shmkit best | C best | ratio | shmkit median | C median | median ratio | paired | target |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const met = r.bar === undefined ? "" : r.ratio <= r.bar ? `≤ ${r.bar} ✓` : `≤ ${r.bar}`;
    lines.push(
      `| ${r.workload} | ${r.runtime} | ${time(r.shmkit, r.unit)}${rate(r, "shmkit")} | ${time(r.c, r.unit)}${rate(r, "c")} | ` +
        `${ratio(r.ratio)} | ${time(r.median.shmkit, r.unit)} | ${time(r.median.c, r.unit)} | ${ratio(r.median.ratio)} | ${
          r.paired ? ratio(r.paired.median) : "–"
        } | ${met} |`,
    );
  }
  return lines.join("\n");
}

/** Workloads as rows, runtime pairs as columns: best ratio, then shmkit's and C's best times of that pair's run. */
export function summaryTable(rows: Row[]): string {
  const workloads = [...new Set(rows.map((r) => r.workload))];
  const lines = [
    `| workload | ${PAIRS.map((p) => `${PAIR_LABEL[p]}: ratio (shmkit vs C)`).join(" | ")} | target |`,
    `|---|${PAIRS.map(() => "---").join("|")}|---|`,
  ];
  for (const w of workloads) {
    const of = rows.filter((r) => r.workload === w);
    const cells = PAIRS.map((p) => {
      const r = of.find((r) => r.runtime === p);
      if (!r) return "–";
      const paired = r.paired ? `; paired ${ratio(r.paired.median)}` : "";
      return `${ratio(r.ratio)} (${time(r.shmkit, r.unit)} vs ${time(r.c, r.unit)}${paired})`;
    });
    const bar = of[0].bar === undefined ? "" : `≤ ${of[0].bar}`;
    lines.push(`| ${w} | ${cells.join(" | ")} | ${bar} |`);
  }
  return lines.join("\n");
}

/** Replaces the text between `<!-- name -->` and `<!-- /name -->` in `file`. */
function replaceRegion(file: string, name: string, body: string): void {
  const path = `${ROOT}${file}`;
  const text = readFileSync(path, "utf8");
  const begin = `<!-- ${name} -->`;
  const end = `<!-- /${name} -->`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${file}: markers ${begin} ... ${end} not found`);
  writeFileSync(path, `${text.slice(0, i + begin.length)}\n${body}\n${text.slice(j)}`);
}

function main(): void {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  const args: string[] = g.Deno ? g.Deno.args : process.argv.slice(2);
  const file = args[0] ?? `${ROOT}bench/results/vs-c.json`;
  const rows: Row[] = JSON.parse(readFileSync(file, "utf8"));
  if (!Array.isArray(rows) || rows.length === 0) throw new Error(`${file}: no rows`);
  mkdirSync(`${ROOT}docs/bench`, { recursive: true });
  writeFileSync(`${ROOT}docs/bench/throughput.svg`, throughputSvg(rows));
  writeFileSync(`${ROOT}docs/bench/latency.svg`, latencySvg(rows));
  const machine = `Measured ${machineLine(rows)}.`;
  replaceRegion("docs/BENCHMARKS.md", "vs-c:machine", machine);
  replaceRegion("docs/BENCHMARKS.md", "vs-c:summary", summaryTable(rows));
  replaceRegion("docs/BENCHMARKS.md", "vs-c:table", fullTable(rows));
  replaceRegion("README.md", "vs-c:summary", `${machine}\n\n${summaryTable(rows)}`);
  // The tables are written compact; `deno fmt` pads them as it pads every other table of the docs.
  if (g.Deno) {
    const fmt = new g.Deno.Command(g.Deno.execPath(), { args: ["fmt", "-q", `${ROOT}README.md`, `${ROOT}docs/BENCHMARKS.md`] });
    if (!fmt.outputSync().success) throw new Error("deno fmt of README.md and docs/BENCHMARKS.md failed");
  }
  console.log(`wrote docs/bench/throughput.svg, docs/bench/latency.svg, docs/BENCHMARKS.md and README.md tables from ${file}`);
}

if (import.meta.main) main();
