export { openDatabase, type Db } from './db/database.js';
export { PartitionStore } from './partition/partition-store.js';
export { PartitionStateMachine, type ApplyResult, type ReadResult } from './partition/state-machine.js';
export { PRODUCER_WINDOW } from './partition/producer-window.js';
