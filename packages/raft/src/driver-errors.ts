/**
 * Errors of the multi-group driver (multi-raft.ts). They extend RaftError (errors.ts) so a broker forwards
 * them like the core's: `code` is a wire code of @myqueue/protocol and `retriable` says whether to retry.
 */
import { RaftError } from './errors.js';
import type { GroupId } from './types.js';

/** This node hosts no replica of the group. */
export class UnknownGroupError extends RaftError {
  readonly group: GroupId;

  constructor(group: GroupId) {
    super('MQ_ERR_UNKNOWN_PARTITION', `raft group ${group} is not hosted on this node`, false);
    this.group = group;
  }
}

/** addGroup() for a group that is already running here. */
export class GroupExistsError extends RaftError {
  readonly group: GroupId;

  constructor(group: GroupId) {
    super('MQ_ERR_INTERNAL', `raft group ${group} is already running on this node`, false);
    this.group = group;
  }
}

/**
 * The group was removed from this node, or the driver closed or failed, while a proposal or read was
 * waiting: a proposal may or may not commit elsewhere.
 */
export class GroupStoppedError extends RaftError {
  readonly group: GroupId;

  constructor(group: GroupId, reason: string, options: { cause?: unknown } = {}) {
    super('MQ_ERR_UNAVAILABLE', `raft group ${group} stopped: ${reason}`, true, options);
    this.group = group;
  }
}

/**
 * A proposal's entry may have committed, but this node skipped over it by installing a leader's snapshot,
 * so it cannot tell. Like a timeout: the caller retries with an idempotent request (producer sequence).
 */
export class OutcomeUnknownError extends RaftError {
  readonly group: GroupId;
  readonly index: number;

  constructor(group: GroupId, index: number) {
    super(
      'MQ_ERR_TIMEOUT',
      `raft group ${group}: the outcome of the entry at ${index} is unknown (replaced by a snapshot)`,
      true,
    );
    this.group = group;
    this.index = index;
  }
}
