#!/usr/bin/env node
/** The manager process: options from the environment (env.ts), pino logs on stdout, clean stop on SIGTERM/SIGINT. */
import { pino } from 'pino';
import { optionsFromEnv } from './env.js';
import { startManager } from './manager.js';
import { withDefaults } from './options.js';

async function main(): Promise<void> {
  let options;
  try {
    options = withDefaults(optionsFromEnv(process.env));
  } catch (err) {
    console.error(`myqueue-manager: ${(err as Error).message}`);
    process.exit(2);
  }
  const log = pino({ level: options.logLevel, base: { component: 'manager', node: options.nodeId } });
  const handle = await startManager(options, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    handle.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('myqueue-manager failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
