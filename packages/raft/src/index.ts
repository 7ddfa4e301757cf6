export * from './types.js';
export * from './storage.js';
export * from './transport.js';
export * from './logger.js';
export * from './options.js';
export * from './node-api.js';
export * from './errors.js';
