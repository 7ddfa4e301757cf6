export * from './errors.js';
export * from './common.js';
export * from './records.js';
export * from './broker-api.js';
export * from './manager-api.js';
