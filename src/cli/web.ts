/**
 * `shmkit watch NAME --web`: a small HTTP server on 127.0.0.1 only (node:http, in
 * both runtimes) that samples the segment every interval and pushes each sample to
 * the page with server-sent events. It keeps the last ten minutes of fill levels and
 * rates, so a page opened late still plots the recent past. The page (page.ts) is
 * self-contained: no build step, no framework, nothing fetched from elsewhere.
 *
 * Routes: `/` the page, `/events` the event stream (`history` once, then `sample`
 * per interval), `/api/sample` the latest sample as JSON, `/api/history`. Requests
 * whose Host header is not this loopback address are refused (DNS rebinding).
 */
import * as http from "node:http";
import { ShmError } from "../errors.ts";
import { SCHEMA } from "./codes.ts";
import { out, rawKeys, stdoutIsTTY } from "./io.ts";
import { page } from "./page.ts";
import { type Sample, Sampler, type Stopper } from "./sampler.ts";

/** What the page plots per sample: fill and rates of each structure. */
export interface Point {
  readonly t: number;
  readonly s: Record<string, { f: number | null; c: number; r: Record<string, number> }>;
}

const HISTORY_MS = 10 * 60_000;

function point(s: Sample): Point {
  const p: Point = { t: s.time, s: {} };
  for (const e of s.report?.entries ?? []) p.s[e.name] = { f: e.fill, c: e.capacity, r: s.rates[e.name] ?? {} };
  return p;
}

/** A sample as the page and `watch --json` get it. */
function doc(s: Sample): { schema: number; time: number; segment: Sample["report"]; rates: Sample["rates"] } {
  return { schema: SCHEMA, time: s.time, segment: s.report, rates: s.rates };
}

function payload(s: Sample): string {
  return JSON.stringify(doc(s));
}

/** Serves the live page until stopped; resolves with the exit code. */
export async function serveWeb(name: string, o: { intervalMs: number; port: number }, stopper: Stopper): Promise<number> {
  const sampler = new Sampler(name);
  const history: Point[] = [];
  const clients = new Set<http.ServerResponse>();
  let latest: Sample = sampler.sample();
  history.push(point(latest));
  let port = 0;

  const server = http.createServer((req, res) => {
    const host = req.headers.host ?? "";
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      res.writeHead(403, { "content-type": "text/plain" }).end("forbidden: use http://127.0.0.1:" + port + "/\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET" }).end();
      return;
    }
    const path = (req.url ?? "/").split("?")[0];
    const noStore = { "cache-control": "no-store", "x-content-type-options": "nosniff" };
    if (path === "/" || path === "/index.html") {
      const initial = { history: { name, intervalMs: o.intervalMs, points: history }, sample: doc(latest) };
      res.writeHead(200, { ...noStore, "content-type": "text/html; charset=utf-8" }).end(page(initial));
    } else if (path === "/api/sample") {
      res.writeHead(200, { ...noStore, "content-type": "application/json" }).end(payload(latest));
    } else if (path === "/api/history") {
      res.writeHead(200, { ...noStore, "content-type": "application/json" }).end(
        JSON.stringify({ name, intervalMs: o.intervalMs, points: history }),
      );
    } else if (path === "/events") {
      res.writeHead(200, { ...noStore, "content-type": "text/event-stream", connection: "keep-alive" });
      res.write(`retry: 1000\nevent: history\ndata: ${JSON.stringify({ name, intervalMs: o.intervalMs, points: history })}\n\n`);
      res.write(`event: sample\ndata: ${payload(latest)}\n\n`);
      clients.add(res);
      const drop = () => clients.delete(res);
      req.on("close", drop);
      res.on("close", drop);
    } else {
      res.writeHead(404, { ...noStore, "content-type": "text/plain" }).end("not found\n");
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: Error & { code?: string }) => {
      const why = e.code === "EADDRINUSE" ? "the port is in use" : e.code === "EACCES" ? "permission denied" : e.message;
      reject(
        new ShmError("OS_ERROR", `cannot serve on 127.0.0.1:${o.port}: ${why}; choose another with --port N (0: any free port)`),
      );
    });
    server.listen(o.port, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  port = typeof addr === "object" && addr !== null ? addr.port : o.port;
  const keys = stdoutIsTTY() ? rawKeys((k) => (k.includes("q") || k.includes("\x03")) && stopper.stop()) : null;
  await out(`shmkit watch: serving segment ${name} on http://127.0.0.1:${port}/ (${keys ? "q or " : ""}Ctrl-C stops)\n`);

  try {
    while (!stopper.done) {
      await stopper.sleep(o.intervalMs);
      if (stopper.done) break;
      latest = sampler.sample();
      history.push(point(latest));
      while (history.length > 1 && history[0].t < latest.time - HISTORY_MS) history.shift();
      const msg = `event: sample\ndata: ${payload(latest)}\n\n`;
      for (const c of clients) c.write(msg);
    }
  } finally {
    keys?.stop();
    for (const c of clients) c.end();
    clients.clear();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      setTimeout(resolve, 500); // a runtime that does not close kept-alive sockets must not keep us waiting
    });
  }
  await out("shmkit watch: stopped\n");
  return 0;
}
