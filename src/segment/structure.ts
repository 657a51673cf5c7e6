/**
 * What a structure module tells the segment about itself, and the 64-byte header
 * every structure block starts with (kind, element size, type hash, data offset,
 * capacity), which `open` checks against the name table entry.
 */
import type { ElementType } from "./elements.ts";
import { ShmError } from "../errors.ts";
import { S } from "./format.ts";
import { kindName } from "./kinds.ts";
import type { Memory } from "./memory.ts";
import type { EntryInfo } from "./table.ts";

export interface StructureSpec {
  readonly kind: number;
  /** Element type, or undefined for structures without elements (locks, counters). */
  readonly type: ElementType<unknown> | undefined;
  /** Bytes between the 64-byte structure header and the element data (multiple of 64). */
  readonly controlBytes: number;
  /** Bytes of element data for `capacity` (the block is header + control + data). */
  dataBytes(capacity: number): number;
  /** Initialises a freshly zeroed block. `data` is the byte offset of the element data. */
  init?(m: Memory, block: number, data: number, capacity: number): void;
}

/** Where a structure lives: its block, its data, its capacity. */
export interface Placement extends EntryInfo {
  /** Byte offset of the element data from the segment start. */
  readonly data: number;
  /** Byte offset of the control area (just after the 64-byte header). */
  readonly control: number;
}

export function blockBytes(spec: StructureSpec, capacity: number): number {
  return S.size + spec.controlBytes + spec.dataBytes(capacity);
}

export function writeHeader(m: Memory, block: number, spec: StructureSpec, capacity: number): void {
  m.u32[(block + S.kind) >> 2] = spec.kind;
  m.u32[(block + S.elemSize) >> 2] = spec.type?.size ?? 0;
  m.u32[(block + S.typeHash) >> 2] = spec.type?.typeHash ?? 0;
  m.u32[(block + S.dataOffset) >> 2] = S.size + spec.controlBytes;
  m.setU64(block + S.capacity, capacity);
}

/** Checks an entry against what the caller asked for, then its block header against the entry. */
export function checkEntry(m: Memory, e: EntryInfo, spec: StructureSpec): Placement {
  const wantSize = spec.type?.size ?? 0;
  const wantHash = spec.type?.typeHash ?? 0;
  if (e.kind !== spec.kind) {
    throw new ShmError("TYPE_MISMATCH", `"${e.name}" is a ${e.kindName}, not a ${kindName(spec.kind)}`);
  }
  if (e.elemSize !== wantSize || e.typeHash !== wantHash) {
    throw new ShmError(
      "TYPE_MISMATCH",
      `"${e.name}" holds elements of ${e.elemSize} bytes (type hash 0x${e.typeHash.toString(16)}), ` +
        `not ${spec.type?.name ?? "none"} (${wantSize} bytes, type hash 0x${wantHash.toString(16)})`,
    );
  }
  const b = e.offset;
  const dataOffset = m.u32[(b + S.dataOffset) >> 2];
  if (
    m.u32[(b + S.kind) >> 2] !== e.kind || m.u32[(b + S.elemSize) >> 2] !== e.elemSize ||
    m.u32[(b + S.typeHash) >> 2] !== e.typeHash || m.getU64(b + S.capacity) !== e.capacity ||
    dataOffset !== S.size + spec.controlBytes
  ) {
    throw new ShmError("CORRUPT", `structure header of "${e.name}" does not match its name table entry`);
  }
  // Every structure is created with capacity >= 1: a 0 would divide by zero in rings and queues.
  if (!Number.isSafeInteger(e.capacity) || e.capacity < 1 || blockBytes(spec, e.capacity) > e.size) {
    throw new ShmError("CORRUPT", `"${e.name}": capacity ${e.capacity} does not fit its ${e.size}-byte block`);
  }
  return { ...e, data: b + dataOffset, control: b + S.size };
}

/** Validates a capacity argument (a positive integer up to `max`). */
export function checkCapacity(capacity: unknown, what: string, max = 2 ** 32): number {
  if (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 1 || capacity > max) {
    throw new ShmError("INVALID_ARGUMENT", `${what} must be an integer from 1 to ${max}, got ${String(capacity)}`);
  }
  return capacity;
}
