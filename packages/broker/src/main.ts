#!/usr/bin/env node
import { pino } from 'pino';
import { startBroker } from './broker.js';
import { ConfigError, optionsFromEnv } from './config/env.js';
import { withDefaults } from './config/options.js';

/** The broker process: reads the environment once, starts, stops cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let options;
  try {
    options = withDefaults(optionsFromEnv(process.env));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: options.logLevel, base: { component: 'broker', node: options.id } });
  const broker = await startBroker(options, logger, (err) => {
    logger.fatal({ err }, 'storage transaction failed; exiting so the broker restarts from disk');
    process.exit(1);
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    broker.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('broker failed to start:', err);
  process.exit(1);
});
