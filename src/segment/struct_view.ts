/**
 * Struct views: an object whose read-only fields are getters over one struct's bytes
 * at offset 0 of a Memory, for the queues' `tryPopView` (one view per handle, over its
 * private scratch block). Why: filling an object is what a struct pop costs on Deno.
 * V8 keeps each double field of an object in a separate heap box, so `tryPopInto` of a
 * struct of seven f64 spends ~28 ns storing them, where JavaScriptCore stores a double
 * in the field itself (~1 ns; bench/struct_floor.ts, docs/BENCHMARKS.md). A getter
 * reads the typed array only when the caller asks, and returns a plain number.
 */
import type { Memory } from "./memory.ts";
import { type ElementType, inlined } from "./element_type.ts";
import { bool } from "./numeric.ts";

/** What a view needs of a struct field (composite.ts `Field`). */
interface ViewField {
  readonly name: string;
  readonly offset: number;
  readonly type: ElementType<unknown>;
}

/**
 * Compiles a factory of views for a struct laid out as `list`: `make(m)` returns a new
 * object whose getters read the struct at offset 0 of `m`, numeric and bool fields
 * inline, every other field through its type's own `read` (a nested struct, a string:
 * a new value per read). Field names reach the generated code only as JSON string
 * literals, as in composite.ts `compileStruct`; without code generation, the getters are
 * closures over the fields' `read`.
 */
export function compileView(list: readonly ViewField[]): (m: Memory) => object {
  const views = new Set<string>();
  const getters = list.map((f, i) => {
    const key = JSON.stringify(f.name);
    const num = inlined.get(f.type);
    if (num) {
      views.add(num.view);
      const index = num.shift === 0 ? `${f.offset}` : `${f.offset >> num.shift}`;
      // Inline kinds are naturally aligned in a struct, so the offset divides exactly.
      return `get [${key}]() { return ${num.view}[${index}]; }`;
    }
    if (f.type === bool) {
      views.add("u8");
      return `get [${key}]() { return u8[${f.offset}] !== 0; }`;
    }
    return `get [${key}]() { return t${i}.read(m, ${f.offset}); }`;
  });
  const load = views.size ? `const ${[...views].map((w) => `${w} = m.${w}`).join(", ")};` : "";
  const source = `"use strict";
  return function make(m) {
    ${load}
    return new (class {
      ${getters.join("\n      ")}
    })();
  };`;
  try {
    return new Function(...list.map((_, i) => `t${i}`), source)(...list.map((f) => f.type));
  } catch {
    // Code generation from strings refused: the same getters as closures, as the class
    // has them (on the prototype, not enumerable, no setter).
    return (m) => {
      const proto = {};
      for (const f of list) Object.defineProperty(proto, f.name, { get: () => f.type.read(m, f.offset) });
      return Object.create(proto);
    };
  }
}
