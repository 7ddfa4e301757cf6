export * from './options.js';
export { optionsFromEnv, ENV_VARS } from './env.js';
export { startManager, type ManagerHandle } from './manager.js';
export { startEmbeddedDatabase, type EmbeddedDatabase, type EmbeddedDatabaseOptions } from './db/embedded.js';
export { placePartitions, chooseReplacement, loadOf } from './placement.js';
export { RoundRobin } from './round-robin.js';
