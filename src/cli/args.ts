/**
 * Command-line parsing for `shmkit`: a command, positional arguments and flags, each
 * command declaring the flags it accepts (with or without a value). `--flag=value`
 * and `--flag value` both work; `--` ends the flags. Anything undeclared is a usage
 * error (exit code 2), never silently ignored.
 */

/** A usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Flags a command accepts: name → true when it takes a value. */
export type FlagSpec = Readonly<Record<string, boolean>>;

/** Parsed arguments of one command. */
export interface Parsed {
  readonly positional: string[];
  readonly flags: Map<string, string | true>;
}

/** Parses `argv` (after the command word) against `spec`. */
export function parse(command: string, argv: readonly string[], spec: FlagSpec): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a === "-h") {
      flags.set("help", true);
      continue;
    }
    if (!a.startsWith("--") || a === "-") {
      if (a.startsWith("-") && a !== "-") throw new UsageError(`unknown option ${a}`, command);
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (name === "help") {
      flags.set("help", true);
      continue;
    }
    if (!(name in spec)) throw new UsageError(`unknown option --${name}`, command);
    if (spec[name]) {
      let value: string | undefined = eq < 0 ? argv[++i] : a.slice(eq + 1);
      if (value === undefined) throw new UsageError(`--${name} needs a value`, command);
      if (eq < 0 && value.startsWith("--")) throw new UsageError(`--${name} needs a value`, command);
      value = value.trim();
      flags.set(name, value);
    } else {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`, command);
      flags.set(name, true);
    }
  }
  return { positional, flags };
}

/** A numeric flag's value (integer within [min, max]), or `fallback` when absent. */
export function intFlag(p: Parsed, name: string, min: number, max: number, fallback: number, command: string): number {
  const v = p.flags.get(name);
  if (v === undefined) return fallback;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`, command);
  }
  return n;
}

/** A string flag's value, or undefined. */
export function stringFlag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === "string" ? v : undefined;
}
