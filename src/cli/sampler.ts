/**
 * What `shmkit watch` and its web page share: a Sampler that inspects one segment per
 * call and computes rates against the previous sample, and the Stopper that ends a
 * watch (signals, q, a closed page).
 */
import type { SegmentReport } from "../segment/inspection.ts";
import { ShmError } from "../errors.ts";
import { inspectSegment, type Rates, rates } from "../inspect/mod.ts";

/** One sample: the report (null while the segment does not exist) and rates since the previous one. */
export interface Sample {
  readonly time: number;
  readonly report: SegmentReport | null;
  readonly rates: Rates;
}

/** Takes samples of one segment, computing rates against the previous one. */
export class Sampler {
  #prev: SegmentReport | undefined;
  constructor(readonly name: string) {}

  sample(): Sample {
    let report: SegmentReport | null;
    try {
      report = inspectSegment(this.name);
    } catch (e) {
      if (!(e instanceof ShmError && e.code === "NOT_FOUND")) throw e;
      report = null;
    }
    const r = report !== null && this.#prev !== undefined ? rates(this.#prev, report) : {};
    this.#prev = report ?? undefined;
    return { time: report?.time ?? Date.now(), report, rates: r };
  }
}

/** A stop switch: `stopped` resolves once `stop()` was called. */
export class Stopper {
  #resolve!: () => void;
  readonly stopped: Promise<void> = new Promise((r) => (this.#resolve = r));
  #done = false;

  get done(): boolean {
    return this.#done;
  }

  stop(): void {
    this.#done = true;
    this.#resolve();
  }

  /** Sleeps `ms`, or less when stopped meanwhile. */
  sleep(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([new Promise<void>((r) => (timer = setTimeout(r, ms))), this.stopped]).finally(() => clearTimeout(timer));
  }
}
