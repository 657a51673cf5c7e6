/**
 * The composite element kinds: fixed-length UTF-8 strings, fixed-length arrays and
 * C-layout structs (same size, alignment and field offsets as a C compiler gives),
 * whose read, write and check are compiled per layout.
 */
import { ShmError } from "../errors.ts";
import { badValue, type ElementType, fnv1a, inlined, type ValueOf } from "./element_type.ts";
import { compileView, type MakeView } from "./struct_view.ts";
import { Memory } from "./memory.ts";
import { bool, i64AsNumber, numberFromWords, u64AsNumber } from "./numeric.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * A UTF-8 string of at most `maxBytes` bytes, NUL-padded (C's `char[maxBytes]`; a
 * string of exactly maxBytes bytes has no terminator). Longer strings are rejected
 * with INVALID_ARGUMENT, never truncated.
 *
 * @example
 * ```ts
 * import { Segment, SharedArray, string } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-string-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const names = SharedArray.create(seg, "names", string(16), 4);
 * names.set(0, "héllo");
 * assert.equal(names.get(0), "héllo");
 * assert.throws(() => names.set(1, "x".repeat(17)), { code: "INVALID_ARGUMENT" });
 * ```
 */
export function string(maxBytes: number): ElementType<string> {
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > 65536) {
    throw new ShmError("INVALID_ARGUMENT", `string length must be an integer from 1 to 65536 bytes, got ${maxBytes}`);
  }
  const scratch = new Uint8Array(maxBytes + 4);
  const name = `string(${maxBytes})`;
  return {
    name,
    size: maxBytes,
    align: 1,
    typeHash: fnv1a(name),
    typedArray: undefined,
    read(m, o) {
      const bytes = m.u8.subarray(o, o + maxBytes);
      const end = bytes.indexOf(0);
      return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
    },
    write(m, o, v) {
      if (typeof v !== "string") throw badValue(name, v);
      const { read, written } = encoder.encodeInto(v, scratch);
      if (read !== v.length || written > maxBytes) {
        throw new ShmError("INVALID_ARGUMENT", `string of ${encoder.encode(v).length} UTF-8 bytes does not fit ${name}`);
      }
      if (scratch.subarray(0, written).includes(0)) throw new ShmError("INVALID_ARGUMENT", `${name} cannot hold a NUL character`);
      m.u8.set(scratch.subarray(0, written), o);
      m.u8.fill(0, o + written, o + maxBytes);
    },
  };
}

/**
 * A fixed-length array of `length` elements (C's `T name[length]`), read as a JS array.
 *
 * @example
 * ```ts
 * import { array, f32, Segment, SharedArray } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-array-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const rows = SharedArray.create(seg, "rows", array(f32, 3), 2);
 * rows.set(1, [1, 2, 3]);
 * assert.deepEqual(rows.get(1), [1, 2, 3]);
 * ```
 */
export function array<T>(element: ElementType<T>, length: number): ElementType<T[]> {
  if (!Number.isInteger(length) || length < 1 || length > 1 << 20) {
    throw new ShmError("INVALID_ARGUMENT", `array length must be an integer from 1 to 2^20, got ${length}`);
  }
  const name = `${element.name}[${length}]`;
  const stride = element.size;
  return {
    name,
    size: stride * length,
    align: element.align,
    typeHash: fnv1a(name),
    typedArray: undefined,
    read(m, o) {
      const out = new Array<T>(length);
      for (let i = 0; i < length; i++) out[i] = element.read(m, o + i * stride);
      return out;
    },
    write(m, o, v) {
      if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw badValue(name, v);
      const values = v as ArrayLike<T>;
      if (values.length !== length) {
        throw new ShmError("INVALID_ARGUMENT", `${name} needs exactly ${length} values, got ${values.length}`);
      }
      // Validate everything first so that a bad value writes nothing.
      for (let i = 0; i < length; i++) checkValue(element, values[i]);
      for (let i = 0; i < length; i++) element.write(m, o + i * stride, values[i]);
    },
  };
}

/**
 * One field of a struct layout.
 *
 * @example
 * ```ts
 * import { f64, struct, type Field, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const Point = struct({ id: u32, x: f64 });
 * const x: Field = Point.fields.x;
 * assert.equal(x.offset, 8); // padded to f64 alignment, as in C
 * ```
 */
export interface Field {
  /** Field name, as given to struct(). */
  readonly name: string;
  /** Byte offset of the field from the start of the struct (as C's offsetof). */
  readonly offset: number;
  /** The field's element type. */
  readonly type: ElementType<unknown>;
}

/**
 * A struct element type: also exposes its fields' offsets.
 *
 * @example
 * ```ts
 * import { f64, struct, type StructType } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const Vec2: StructType<{ x: number; y: number }> = struct({ x: f64, y: f64 });
 * assert.deepEqual(Object.keys(Vec2.fields), ["x", "y"]);
 * ```
 */
export interface StructType<T> extends ElementType<T> {
  /** The fields by name, with their offsets and types. */
  readonly fields: Readonly<Record<string, Field>>;
  /**
   * A new value of this struct, every field what all-zero bytes read as (0, 0n, false,
   * "", nested structs and arrays likewise): an ordinary object, as `read` returns. The
   * object to reuse as the target of `tryPopInto` / `popInto`, or to fill and push: on
   * Deno an object literal with the struct's field names in its order shares V8's hidden
   * class with the `struct({ ... })` call's own literal, and every number stored into it
   * is boxed anew (a 64-byte struct's tryPopInto into a literal target 30 ns slower;
   * docs/DECISIONS.md "Struct values"). Bun is as fast either way.
   *
   * @example
   * ```ts
   * import { f64, Segment, SpscQueue, struct, u32 } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-struct-create-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const Tick = struct({ price: f64, qty: u32 });
   * assert.deepEqual(Tick.create(), { price: 0, qty: 0 });
   * const q = SpscQueue.create(seg, "ticks", Tick, 16);
   * const out = Tick.create(); // one target for every pop
   * q.push({ price: 10.5, qty: 3 });
   * assert.equal(q.tryPopInto(out), out);
   * assert.deepEqual(out, { price: 10.5, qty: 3 });
   * ```
   */
  create(): T;
}

/**
 * The JS object a struct of fields `F` reads and writes: each field's value type.
 *
 * @example
 * ```ts
 * import { f64, struct, type StructValue, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const fields = { x: f64, id: u32 };
 * const Point = struct(fields);
 * const p: StructValue<typeof fields> = { x: 0.5, id: 1 };
 * assert.equal(Point.name, "struct{x:f64,id:u32}");
 * assert.equal(p.x, 0.5);
 * ```
 */
export type StructValue<F extends Record<string, ElementType<unknown>>> = { [K in keyof F]: ValueOf<F[K]> };

// Values are checked by writing them into a private scratch buffer first: the exact
// same checks as the real write, so a bad field means nothing at all is written.
let probe: Memory = new Memory(0, new ArrayBuffer(64));
function checkValue<T>(type: ElementType<T>, value: T): void {
  if (probe.size < type.size) probe = new Memory(0, new ArrayBuffer(Math.ceil(type.size / 64) * 64));
  type.write(probe, 0, value);
}

/** Structs' generated checks (validate a value, write nothing), used when a struct is a field of another. */
const checkers = new WeakMap<ElementType<unknown>, (value: unknown) => void>();

/** A function that throws the type's own INVALID_ARGUMENT for a value `write` would reject, writing nothing. */
function checkerFor(type: ElementType<unknown>): (value: unknown) => void {
  return checkers.get(type) ?? ((value) => checkValue(type, value));
}

/**
 * Compiles a struct layout's read, write and check (see struct()). Field names and
 * everything else that comes from the caller reach the generated code only as
 * JSON.stringify'd string literals or as arguments; the code itself holds nothing
 * but numbers we computed (offsets, shifts) and fixed text.
 */
function compileStruct(name: string, list: readonly Field[]): {
  read: (m: Memory, o: number) => unknown;
  readInto: (m: Memory, o: number, target: unknown) => unknown;
  write: (m: Memory, o: number, v: unknown) => void;
  check: (v: unknown) => void;
} {
  const at = (off: number) => (off === 0 ? "o" : `(o + ${off})`);
  const views = new Set<string>(); // Memory views the inlined fields use, loaded once per call
  const ctorArgs: string[] = []; // read: one argument of the value constructor per field
  const inits: string[] = []; // the constructor: one own property per field
  const stores: string[] = []; // readInto: one assignment to the target per field
  const field = (name: string, key: string, expr: string) => {
    const a = `a${ctorArgs.length}`;
    ctorArgs.push(expr);
    // A name Object.prototype has would not become an own property by assignment:
    // `__proto__` sets the prototype, and a frozen Object.prototype's `toString` makes
    // the assignment throw. Those few are defined instead.
    const plain = !(name in Object.prototype);
    inits.push(plain ? `this[${key}] = ${a};` : `own(this, ${key}, ${a});`);
    stores.push(plain ? `t[${key}] = ${expr};` : `own(t, ${key}, ${expr});`);
  };
  const checks: string[] = []; // validate one field value (v0, v1, ...)
  const inlineWrites: string[] = [];
  const callWrites: string[] = []; // fields written by their type's `write`, which validated already
  list.forEach((f, i) => {
    const key = JSON.stringify(f.name);
    const v = `v${i}`;
    const num = inlined.get(f.type);
    const as64 = f.type === i64AsNumber ? "i32" : f.type === u64AsNumber ? "u32" : undefined;
    if (as64) {
      // 64-bit integers as numbers, inline: the same words, checks and errors as the
      // type's own read/write (numberFromWords, Number.isSafeInteger), no closure call.
      views.add("u32");
      views.add(as64);
      const w = `(${at(f.offset)} >> 2)`;
      const tag = JSON.stringify(f.type.name);
      field(f.name, key, `words64(${tag}, u32[${w}], ${as64}[${w} + 1])`);
      const unsigned = as64 === "u32";
      checks.push(
        `if (!Number.isSafeInteger(${v})${unsigned ? ` || ${v} < 0` : ""}) throw badValue(${
          JSON.stringify(`${f.type.name} (as number)`)
        }, ${v});`,
      );
      inlineWrites.push(
        `{ const hi = Math.floor(${v} / 4294967296); u32[${w}] = ${v} - hi * 4294967296; ${as64}[${w} + 1] = hi; }`,
      );
    } else if (num) {
      views.add(num.view);
      const slot = num.shift === 0 ? `${num.view}[o + ${f.offset}]` : `${num.view}[${at(f.offset)} >> ${num.shift}]`;
      field(f.name, key, `${slot}`);
      checks.push(`if (!(${num.test(v)})) throw badValue(${JSON.stringify(f.type.name)}, ${v});`);
      inlineWrites.push(`${slot} = ${v};`);
    } else if (f.type === bool) {
      views.add("u8");
      field(f.name, key, `u8[o + ${f.offset}] !== 0`);
      checks.push(`if (typeof ${v} !== "boolean") throw badValue("bool", ${v});`);
      inlineWrites.push(`u8[o + ${f.offset}] = ${v} ? 1 : 0;`);
    } else {
      field(f.name, key, `t${i}.read(m, ${at(f.offset)})`);
      checks.push(`c${i}(${v});`);
      callWrites.push(`t${i}.write(m, ${at(f.offset)}, ${v});`);
    }
  });
  const loadViews = views.size ? `const ${[...views].map((w) => `${w} = m.${w}`).join(", ")};` : "";
  const validate = [
    `if (typeof v !== "object" || v === null) throw notObject(v);`,
    ...list.map((f, i) => `if (!(${JSON.stringify(f.name)} in v)) throw missing(${i});`),
    `const ${list.map((f, i) => `v${i} = v[${JSON.stringify(f.name)}]`).join(", ")};`,
    ...checks,
  ].join("\n    ");
  // Values are made by a constructor of this layout's own, not an object literal: V8
  // gives every literal with the same keys in the same order one hidden class, which the
  // caller's `struct({ x: f64, ... })` literal shares, its fields holding objects. Those
  // fields can then hold anything, so each double stored into them is boxed anew: a
  // 9-field readInto into such a target took Deno 30 ns, into one of these 3.4
  // (docs/DECISIONS.md "Struct values"). The prototype is Object.prototype, so a value is
  // an ordinary object (deepStrictEqual to a literal, structuredClone-able).
  const source = `"use strict";
  function V(${ctorArgs.map((_, i) => `a${i}`).join(", ")}) {
    ${inits.join("\n    ")}
  }
  V.prototype = Object.prototype;
  return {
    read(m, o) {
      ${loadViews}
      return new V(${ctorArgs.join(", ")});
    },
    readInto(m, o, t) {
      ${loadViews}
      ${stores.join("\n      ")}
      return t;
    },
    write(m, o, v) {
      ${validate}
      ${callWrites.join("\n      ")}
      ${inlineWrites.length ? `${loadViews}\n      ${inlineWrites.join("\n      ")}` : ""}
    },
    check(v) {
      ${validate}
    },
  };`;
  const params = ["badValue", "notObject", "missing", "words64", "own", ...list.flatMap((_, i) => [`t${i}`, `c${i}`])];
  const args: unknown[] = [
    badValue,
    (v: unknown) => badValue(name, v),
    (i: number) => new ShmError("INVALID_ARGUMENT", `${name}: field "${list[i].name}" is missing`),
    numberFromWords,
    (t: object, k: string, v: unknown) =>
      Object.defineProperty(t, k, { value: v, enumerable: true, writable: true, configurable: true }),
    ...list.flatMap((f) => [f.type, checkerFor(f.type)]),
  ];
  try {
    return new Function(...params, source)(...args);
  } catch {
    // Code generation from strings refused (e.g. V8's --disallow-code-generation-from-strings).
    return plainStruct(name, list);
  }
}

/**
 * compileStruct's four functions as plain closures over the fields, for where code
 * generation is refused: every field through its type's own read, write and check, so
 * the same values, checks and errors (a bad field still means nothing is written),
 * only slower. Tested by a Deno child run with code generation refused.
 */
function plainStruct(name: string, list: readonly Field[]): ReturnType<typeof compileStruct> {
  const checks = list.map((f) => checkerFor(f.type));
  const put = (t: Record<string, unknown>, k: string, v: unknown) =>
    Object.defineProperty(t, k, { value: v, enumerable: true, writable: true, configurable: true });
  const values = (v: unknown): unknown[] => {
    if (typeof v !== "object" || v === null) throw badValue(name, v);
    const vals = list.map((f) => {
      if (!(f.name in v)) throw new ShmError("INVALID_ARGUMENT", `${name}: field "${f.name}" is missing`);
      return (v as Record<string, unknown>)[f.name];
    });
    vals.forEach((x, i) => checks[i]!(x));
    return vals;
  };
  const readInto = (m: Memory, o: number, t: unknown) => {
    for (const f of list) put(t as Record<string, unknown>, f.name, f.type.read(m, o + f.offset));
    return t;
  };
  return {
    read: (m, o) => readInto(m, o, {}),
    readInto,
    write: (m, o, v) => values(v).forEach((x, i) => list[i]!.type.write(m, o + list[i]!.offset, x)),
    check: (v) => void values(v),
  };
}

/**
 * A C struct: fields in the order given, each at the next offset aligned to its
 * alignment; the struct is aligned to its largest field and padded to a multiple of
 * it — the System V rules every C compiler on Linux follows.
 *
 * read and write are compiled per layout (compileStruct): read builds one object
 * literal of a fixed shape, numeric and bool fields are read, checked and written
 * inline, and write validates every field (the same checks and errors as the field
 * types' own) before it writes any, so a bad field means nothing at all is written.
 *
 * @example
 * ```ts
 * import { f64, Segment, SharedArray, struct, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-struct-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const Point = struct({ x: f64, y: f64, id: u32 }); // C: struct { double x, y; uint32_t id; }
 * assert.equal(Point.size, 24);
 * const points = SharedArray.create(seg, "points", Point, 10);
 * points.set(0, { x: 1.5, y: -2, id: 7 });
 * assert.deepEqual(points.get(0), { x: 1.5, y: -2, id: 7 });
 * ```
 */
export function struct<F extends Record<string, ElementType<unknown>>>(fields: F): StructType<StructValue<F>> {
  const entries = Object.entries(fields);
  if (entries.length === 0) throw new ShmError("INVALID_ARGUMENT", "a struct needs at least one field");
  const laid: Record<string, Field> = {};
  let offset = 0;
  let maxAlign = 1;
  for (const [name, type] of entries) {
    if (!type || typeof type.write !== "function") {
      throw new ShmError("INVALID_ARGUMENT", `struct field "${name}" is not an element type`);
    }
    offset = Math.ceil(offset / type.align) * type.align;
    // defineProperty: an assignment to laid["__proto__"] would set the prototype instead.
    Object.defineProperty(laid, name, { value: { name, offset, type }, enumerable: true, writable: true, configurable: true });
    offset += type.size;
    maxAlign = Math.max(maxAlign, type.align);
  }
  const size = Math.ceil(offset / maxAlign) * maxAlign;
  const name = `struct{${entries.map(([n, t]) => `${n}:${t.name}`).join(",")}}`;
  const { read, readInto, write, check } = compileStruct(name, Object.values(laid));
  const zero = new Memory(0, new ArrayBuffer(Math.ceil(size / 8) * 8)); // never written
  const type: StructType<StructValue<F>> = {
    name,
    size,
    align: maxAlign,
    typeHash: fnv1a(name),
    typedArray: undefined,
    fields: laid,
    read: read as (m: Memory, o: number) => StructValue<F>,
    write: write as (m: Memory, o: number, v: StructValue<F>) => void,
    create: () => read(zero, 0) as StructValue<F>,
  };
  checkers.set(type as ElementType<unknown>, check);
  readers.set(type as ElementType<unknown>, readInto);
  viewers.set(type as ElementType<unknown>, { list: Object.values(laid) });
  return type;
}

const readers = new WeakMap<ElementType<unknown>, (m: Memory, o: number, target: unknown) => unknown>();

/**
 * For struct types: a compiled read that assigns every field into an existing
 * `target` object and returns it (no allocation), for `popInto`-style APIs that reuse
 * one result object. Undefined for other types.
 */
export function structReadInto<T>(type: ElementType<T>): ((m: Memory, o: number, target: T) => T) | undefined {
  return readers.get(type as ElementType<unknown>) as ((m: Memory, o: number, target: T) => T) | undefined;
}

/** A struct's fields, and its view factories once compiled (at the first use: most structs never need one). */
const viewers = new WeakMap<ElementType<unknown>, { list: readonly Field[]; read?: MakeView; write?: MakeView }>();

/**
 * For struct types: a factory of read-only views of the struct at byte `at` (8-aligned)
 * of a Memory (struct_view.ts), for `tryPopView`. Undefined for other types.
 */
export function structView<T>(type: ElementType<T>): ((m: Memory, at: number) => Readonly<T>) | undefined {
  const v = viewers.get(type as ElementType<unknown>);
  return v && (v.read ??= compileView(v.list, false)) as (m: Memory, at: number) => Readonly<T>;
}

/**
 * For struct types: a factory of writable views (setters that check and store each
 * field) of the struct at byte `at` (8-aligned) of a Memory, for the queues'
 * `staging()`. Undefined for other types.
 */
export function structStaging<T>(type: ElementType<T>): ((m: Memory, at: number) => T) | undefined {
  const v = viewers.get(type as ElementType<unknown>);
  return v && (v.write ??= compileView(v.list, true)) as (m: Memory, at: number) => T;
}
