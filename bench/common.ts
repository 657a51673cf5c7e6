/** Shared bits for benchmarks: the runtime's name and a unique segment name. */
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
export const runtime: string = g.Bun ? `bun ${g.Bun.version}` : `deno ${g.Deno.version.deno}`;
export function benchSegmentName(tag: string): string {
  return `shmkit-bench-${tag}-${g.Deno?.pid ?? g.process.pid}`;
}
