export * from './types.js';
export * from './storage.js';
export * from './transport.js';
export * from './logger.js';
export * from './options.js';
export * from './node-api.js';
export * from './errors.js';
// CompactedError/UnavailableError come from ./errors.js (the contract); storage adds its own others.
export { SnapshotOutOfDateError, LogGapError, StorageClosedError } from './storage/errors.js';
export * from './storage/memory-storage.js';
export * from './storage/sqlite-storage.js';
