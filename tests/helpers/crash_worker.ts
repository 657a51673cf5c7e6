/**
 * What every crash worker (tests/workers/crash_*.ts) does: report lines with a
 * synchronous write (a worker may be SIGKILLed or blocked right after), and stop at the
 * pause point of SHMKIT_TEST_PAUSE_AT, reporting `PAUSED <point>`, until it is killed.
 */
import { writeSync } from "node:fs";
import { onPause } from "../../src/structures/pause.ts";
import { sleep } from "./worker.ts";

/** Writes one line to stdout at once. */
export function say(line: string): void {
  writeSync(1, line + "\n");
}

onPause((point) => {
  say(`PAUSED ${point}`);
  for (;;) sleep(1000);
});

/** Global id space: values are id * PER_ID + seq, so seq < PER_ID. */
export const PER_ID = 8192;
/** Most producer incarnations one crash run may start. */
export const MAX_IDS = 1024;
