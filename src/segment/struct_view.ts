/**
 * Struct views: an object whose fields are getters (and, for a staging view, setters)
 * over one struct's bytes at a fixed offset of a Memory, for the queues' `tryPopView`
 * (read-only, over the bytes a pop left) and `staging()` (writable, over the bytes
 * `tryPushStaged` pushes). One view per handle, over its private scratch block. Why:
 * on Deno, moving a struct through an object is what a struct message costs. V8 keeps
 * each double field of an object in a separate heap box, so `tryPopInto` of a struct of
 * seven f64 spends ~28 ns storing them, and filling an object and `write`-ing it ~22
 * ns, where JavaScriptCore stores a double in the field itself (bench/struct_floor.ts,
 * docs/BENCHMARKS.md). A getter reads the typed array only when the caller asks, a
 * setter checks one value and stores it: plain numbers, no boxes.
 */
import type { Memory } from "./memory.ts";
import { badValue, type ElementType, inlined } from "./element_type.ts";
import { bool } from "./numeric.ts";

/** What a view needs of a struct field (composite.ts `Field`). */
interface ViewField {
  readonly name: string;
  readonly offset: number;
  readonly type: ElementType<unknown>;
}

/** A factory of views of one struct layout: `make(m, at)` views the struct at byte `at` (8-aligned) of `m`. */
export type MakeView = (m: Memory, at: number) => object;

/**
 * Compiles a factory of views for a struct laid out as `list`. Numeric and bool fields
 * are read (and, `writable`, checked and written) inline, with the same tests and
 * errors as the struct's own `write`; every other field through its type's own `read`
 * and `write` (a nested struct, a string: a new value per read; its `write` checks
 * the whole value before it writes any of it). So an assignment the type rejects
 * throws INVALID_ARGUMENT and leaves the field as it was. Field names reach the
 * generated code only as JSON string literals, as in composite.ts `compileStruct`;
 * without code generation, the accessors are closures over the fields' `read` and
 * `write`. A writable view is not extensible, so a misspelt field throws (TypeError,
 * in strict code) instead of becoming a property nobody pushes.
 */
export function compileView(list: readonly ViewField[], writable: boolean): MakeView {
  const views = new Set<string>();
  const shifts = new Set<number>();
  const accessors = list.map((f, i) => {
    const key = JSON.stringify(f.name);
    const num = inlined.get(f.type);
    if (num) {
      views.add(num.view);
      shifts.add(num.shift);
      // Inline kinds are naturally aligned in a struct, so the offset divides exactly.
      const slot = num.shift === 0 ? `${num.view}[at + ${f.offset}]` : `${num.view}[b${num.shift} + ${f.offset >> num.shift}]`;
      const get = `get [${key}]() { return ${slot}; }`;
      const tag = JSON.stringify(f.type.name);
      return writable
        ? `${get}\n      set [${key}](v) { if (!(${num.test("v")})) throw badValue(${tag}, v); ${slot} = v; }`
        : get;
    }
    if (f.type === bool) {
      views.add("u8");
      const get = `get [${key}]() { return u8[at + ${f.offset}] !== 0; }`;
      const set = `set [${key}](v) { if (typeof v !== "boolean") throw badValue("bool", v); u8[at + ${f.offset}] = v ? 1 : 0; }`;
      return writable ? `${get}\n      ${set}` : get;
    }
    const get = `get [${key}]() { return t${i}.read(m, at + ${f.offset}); }`;
    return writable ? `${get}\n      set [${key}](v) { t${i}.write(m, at + ${f.offset}, v); }` : get;
  });
  const load = [
    ...[...views].map((w) => `${w} = m.${w}`),
    ...[...shifts].filter((s) => s > 0).map((s) => `b${s} = at >> ${s}`),
  ];
  const source = `"use strict";
  return function make(m, at) {
    ${load.length ? `const ${load.join(", ")};` : ""}
    const view = new (class {
      ${accessors.join("\n      ")}
    })();
    return ${writable ? "Object.preventExtensions(view)" : "view"};
  };`;
  try {
    return new Function("badValue", ...list.map((_, i) => `t${i}`), source)(badValue, ...list.map((f) => f.type));
  } catch {
    // Code generation from strings refused: the same accessors as closures, as the class
    // has them (on the prototype, not enumerable; a setter only on a writable view).
    return (m, at) => {
      const proto = {};
      for (const f of list) {
        const get = () => f.type.read(m, at + f.offset);
        const set = (v: unknown) => f.type.write(m, at + f.offset, v);
        Object.defineProperty(proto, f.name, writable ? { get, set } : { get });
      }
      const view = Object.create(proto);
      return writable ? Object.preventExtensions(view) : view;
    };
  }
}
