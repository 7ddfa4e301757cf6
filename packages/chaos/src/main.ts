#!/usr/bin/env node
/** `pnpm chaos`: see cli.ts and docs/reliability.md. */
import { runCli } from './cli.js';

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
