/**
 * Checking ShmError codes in tests.
 *
 * - `code(fn)`: the code `fn` throws, for `assert.equal(code(() => r.pop()), "EMPTY")`.
 * - `codeOf(e)`: the code of a caught value, for `assert.throws(fn, (e) => codeOf(e) === "FULL")`.
 * - `throwsCode(code, fn, message?)`: asserts `fn` throws that ShmError and returns it.
 */
import assert from "node:assert/strict";
import { ShmError, type ShmErrorCode } from "../../src/errors.ts";

/**
 * Runs `fn` and returns the code of the ShmError it throws, or "no error" when it
 * returns normally. Any other exception propagates (and fails the test).
 */
export function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ShmError) return e.code;
    throw e;
  }
  return "no error";
}

/** The code of `e` if it is a ShmError, else undefined. */
export function codeOf(e: unknown): string | undefined {
  return e instanceof ShmError ? e.code : undefined;
}

/**
 * Asserts that `fn` throws a ShmError with `code` (and, if given, a message matching
 * `message`), and returns that error. Fails if nothing, or anything else, is thrown.
 */
export function throwsCode(code: ShmErrorCode, fn: () => unknown, message?: RegExp): ShmError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ShmError, `expected ShmError ${code}, got ${e instanceof Error ? e.stack : e}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ShmError ${code}, but nothing was thrown`);
}
