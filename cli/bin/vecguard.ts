#!/usr/bin/env node
// Entry point of the `vecguard` command. Runs on Node ≥ 22.18 (TypeScript type stripping).
import { main } from '../main.ts';

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  signal: stop.signal,
});
