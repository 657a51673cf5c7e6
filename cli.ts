#!/usr/bin/env bun
/**
 * The `shmkit` command: list, inspect, watch and clean shmkit segments in /dev/shm.
 *
 * ```sh
 * deno run -A jsr:@shmkit/shmkit/cli ls
 * bunx shmkit inspect jobs --json
 * deno task cli watch jobs --web
 * ```
 *
 * Commands, options, JSON output and exit codes: docs/CLI.md (or `shmkit --help`).
 * @module
 */
import process from "node:process";
import { main } from "./src/cli/main.ts";

if (import.meta.main) process.exit(await main(process.argv.slice(2)));

export { main };
