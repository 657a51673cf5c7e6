/**
 * A minimal headless-Chromium driver over the DevTools protocol (a WebSocket, which
 * Deno and Bun both have): open a page, evaluate expressions in it, take a
 * screenshot. Enough for tests of the `shmkit watch --web` page.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

/** A page in the browser. */
export class Page {
  #id = 0;
  readonly #pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  constructor(readonly ws: WebSocket) {
    ws.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data));
      const p = msg.id !== undefined ? this.#pending.get(msg.id) : undefined;
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${msg.error.message} (${msg.error.code})`));
      else p.resolve(msg.result);
    };
  }

  /** Sends a DevTools command and resolves with its result. */
  send(method: string, params: Record<string, unknown> = {}): Promise<any> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The value of a JavaScript expression evaluated in the page (awaited if it is a promise). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`page threw: ${JSON.stringify(r.exceptionDetails)}`);
    return r.result.value as T;
  }

  /** Polls `expression` until it is truthy; throws after `timeoutMs`. */
  async waitFor(expression: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.evaluate<boolean>(`Boolean(${expression})`))) {
      if (Date.now() > deadline) throw new Error(`page: "${expression}" did not become true in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A PNG screenshot of the viewport. */
  async screenshot(): Promise<Uint8Array> {
    const r = await this.send("Page.captureScreenshot", { format: "png" });
    const bin = atob(r.data as string);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
}

/** A headless Chromium process. */
export class Browser {
  private constructor(readonly child: ChildProcess, readonly port: number, readonly profile: string) {}

  /** Starts `chromium` headless with a fresh profile and remote debugging on a free port. */
  static async launch(chromium: string, timeoutMs = 30_000): Promise<Browser> {
    const profile = mkdtempSync(`${tmpdir()}/shmkit-chromium-`);
    const child = spawn(chromium, [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage", // keep Chromium's own shared memory out of /dev/shm
      "--no-first-run",
      "--no-default-browser-check",
      "--window-size=1280,900",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      "about:blank",
    ], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`chromium did not start in ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
      child.stderr!.setEncoding("utf8");
      child.stderr!.on("data", (chunk: string) => {
        stderr += chunk;
        const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`chromium exited (${code}):\n${stderr}`));
      });
    });
    return new Browser(child, port, profile);
  }

  /** Opens `url` in the browser's first page and waits for the load event. */
  async open(url: string): Promise<Page> {
    const targets = await (await fetch(`http://127.0.0.1:${this.port}/json/list`)).json() as {
      type: string;
      webSocketDebuggerUrl: string;
    }[];
    const target = targets.find((t) => t.type === "page");
    if (!target) throw new Error("chromium has no page target");
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("cannot connect to chromium's page"));
    });
    const page = new Page(ws);
    await page.send("Page.enable");
    await page.send("Page.navigate", { url });
    await page.waitFor(`document.readyState === "complete" && location.href.startsWith(${JSON.stringify(url)})`);
    return page;
  }

  /** Stops the browser (SIGTERM, then SIGKILL) and removes its profile. */
  async close(): Promise<void> {
    const exited = new Promise<void>((r) => this.child.exitCode !== null ? r() : this.child.once("exit", () => r()));
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(t);
    // Chromium's helper processes (crashpad, GPU, renderers) may still write into the
    // profile for a moment after the browser process exits: rm then fails with ENOTEMPTY
    // (seen in CI). Retry for up to 5 s.
    for (let attempt = 0;; attempt++) {
      try {
        rmSync(this.profile, { recursive: true, force: true });
        return;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (attempt >= 50 || (code !== "ENOTEMPTY" && code !== "EBUSY")) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
