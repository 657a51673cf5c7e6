/**
 * RingBuffer.read window worker. Usage: crash_ring.ts <segment> readwindow <at>
 * With SHMKIT_TEST_PAUSE_AT=ring.read.window, fills ring "r" (u32, capacity 4) with
 * 1..4, then calls read(at) on a second handle; the pause handler runs one pushOverwrite
 * between read's tail and head loads (the race of issue 10). Prints the JSON result.
 */
import { RingBuffer, Segment, u32 } from "../../mod.ts";
import { onPause } from "../../src/structures/pause.ts";
import { args } from "../helpers/worker.ts";
import { say } from "../helpers/crash_worker.ts";

const [segName, , at] = args;
const seg = Segment.open(segName);
const producer = RingBuffer.open(seg, "r", u32);
for (let i = 1; i <= 4; i++) producer.push(i);
onPause(() => producer.pushOverwrite(5));
const reader = RingBuffer.open(seg, "r", u32);
const v = reader.read(Number(at));
say(JSON.stringify({ value: v ?? null, oldest: reader.read(0) ?? null }));
seg.close();
