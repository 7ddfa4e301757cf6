/**
 * Errors raised by storage implementations (the LogReader/GroupStorage contract in ../storage.ts).
 * CompactedError and UnavailableError live in ../errors.ts with the rest of the package's errors (the core
 * catches them: a compacted index means "send a snapshot instead"); they are re-exported here so storage
 * code has one place to import from. The others are storage-only misuse or lifecycle errors.
 */
import { RaftError } from '../errors.js';

export { CompactedError, UnavailableError } from '../errors.js';

/** A snapshot older than the one already stored was offered (applySnapshot or createSnapshot). */
export class SnapshotOutOfDateError extends RaftError {
  constructor(
    readonly index: number,
    readonly current: number,
  ) {
    super('MQ_ERR_INTERNAL', `snapshot at index ${index} is older than the stored snapshot at ${current}`, false);
  }
}

/** An append would leave a hole in the log (it starts past lastIndex()+1), or its entries are not contiguous. */
export class LogGapError extends RaftError {
  constructor(
    readonly index: number,
    readonly lastIndex: number,
  ) {
    super('MQ_ERR_INTERNAL', `append at index ${index} would leave a gap after index ${lastIndex}`, false);
  }
}

/** The storage (or a MemoryStorage instance that crashed) was closed; open it again. */
export class StorageClosedError extends RaftError {
  constructor() {
    super('MQ_ERR_INTERNAL', 'raft storage is closed', false);
  }
}
