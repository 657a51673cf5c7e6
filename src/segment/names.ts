/** Validation of segment names (POSIX shm object names) and entry names. */
import { ShmError } from "../errors.ts";

const encoder = new TextEncoder();

/** A segment name: 1..255 bytes of UTF-8, no '/', no NUL, not "." or "..". */
export function checkSegmentName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new ShmError("INVALID_ARGUMENT", `segment name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (name.includes("/")) throw new ShmError("INVALID_ARGUMENT", `segment name "${name}" must not contain '/'`);
  if (name.includes("\0")) throw new ShmError("INVALID_ARGUMENT", "segment name must not contain NUL");
  if (name === "." || name === "..") throw new ShmError("INVALID_ARGUMENT", `segment name "${name}" is reserved`);
  const bytes = encoder.encode(name).length;
  if (bytes > 255) throw new ShmError("INVALID_ARGUMENT", `segment name is ${bytes} bytes; the limit is 255`);
  return name;
}

/** An entry name: 1..maxNameLength bytes of UTF-8, no NUL. Returns its bytes. */
export function checkEntryName(name: unknown, maxNameLength: number): Uint8Array {
  if (typeof name !== "string" || name.length === 0) {
    throw new ShmError("INVALID_ARGUMENT", `structure name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (name.includes("\0")) throw new ShmError("INVALID_ARGUMENT", "structure name must not contain NUL");
  const bytes = encoder.encode(name);
  if (bytes.length > maxNameLength) {
    throw new ShmError(
      "INVALID_ARGUMENT",
      `structure name "${name}" is ${bytes.length} bytes; this segment allows ${maxNameLength}`,
    );
  }
  return bytes;
}
