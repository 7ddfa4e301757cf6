/**
 * TEMPORARY: @myqueue/raft's SqliteStorage is not exported from its index yet (the raft branch has the
 * export staged). Until it is, this one file reaches into the raft package's build output; replace the
 * line below with `export { SqliteStorage } from '@myqueue/raft';` as soon as the export lands.
 */
export { SqliteStorage } from '../../../raft/dist/storage/sqlite-storage.js';
