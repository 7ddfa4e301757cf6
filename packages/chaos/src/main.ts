#!/usr/bin/env node
/** `pnpm chaos`: see cli.ts and docs/reliability.md. */
import { ChaosCluster } from './chaos-cluster.js';
import { runCli } from './cli.js';

// Ctrl-C or a kill: stop the cluster's processes (resuming paused ones) instead of orphaning them.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    console.error(`${signal}: stopping the cluster; the run directory is kept`);
    void Promise.all([...ChaosCluster.running].map((c) => c.stop().catch(() => undefined))).then(() =>
      process.exit(130),
    );
  });

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
