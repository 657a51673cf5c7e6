/**
 * Short, readable summaries for `console.log` / `Deno.inspect` / `Bun.inspect` of a
 * segment or a structure handle, instead of the kilobytes of mapped memory their
 * typed views would print. Both runtimes look up a method under a registered symbol:
 * Deno `Symbol.for("Deno.customInspect")`, Bun and Node
 * `Symbol.for("nodejs.util.inspect.custom")`; Handle and Segment define both.
 *
 * ```ts ignore
 * console.log(queue); // Queue<u32> "jobs" { capacity: 1024, size: 3 }
 * console.log(seg);   // Segment "demo" { size: 1048576, structures: 2, processes: [4242] }
 * ```
 */

/** The two symbols runtimes call to inspect an object. */
export const INSPECT_DENO: unique symbol = Symbol.for("Deno.customInspect") as never;
export const INSPECT_NODE: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

/** Reads a getter without letting it throw (a closed handle throws CLOSED). */
function read(o: object, key: string): unknown {
  try {
    const v = (o as Record<string, unknown>)[key];
    return typeof v === "function" ? undefined : v;
  } catch {
    return undefined;
  }
}

/**
 * `Kind<type> "name" { capacity: …, size: … }` for a handle: its class name, element
 * type, capacity, and whichever of `size` / `length` it has; `{ closed }` once closed.
 */
export function handleSummary(h: object, name: string, capacity: number | undefined): string {
  const cls = h.constructor?.name ?? "Handle";
  const type = read(h, "type") as { name?: string } | undefined;
  const head = `${cls}${type?.name ? `<${type.name}>` : ""} ${JSON.stringify(name)}`;
  if (read(h, "closed") === true) return `${head} { closed }`;
  const fields: string[] = [];
  if (type?.name && capacity !== undefined && capacity > 0) fields.push(`capacity: ${capacity}`);
  for (const key of ["size", "length"]) {
    const v = read(h, key);
    if (typeof v === "number") fields.push(`${key}: ${v}`);
  }
  return fields.length ? `${head} { ${fields.join(", ")} }` : head;
}
