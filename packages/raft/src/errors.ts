import type { NodeId } from './types.js';

/**
 * Every error the Raft library throws. `code` reuses the wire codes of @myqueue/protocol (this package
 * does not depend on it) so a broker can forward the error as is; `retriable` says whether the same
 * request may succeed later (e.g. after a leader is elected).
 */
export class RaftError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, retriable: boolean, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = retriable;
  }
}

/** This node does not lead the group; `leader` is the leader it knows of ("" when unknown). */
export class NotLeaderError extends RaftError {
  readonly leader: NodeId;

  constructor(leader: NodeId, message = leader ? `not the leader; the leader is ${leader}` : 'not the leader; no leader known') {
    super(leader ? 'MQ_ERR_NOT_LEADER' : 'MQ_ERR_NO_LEADER', message, true);
    this.leader = leader;
  }
}

/** The leader refused a proposal (too many uncommitted bytes, or it is stepping down). Retry later. */
export class ProposalDroppedError extends RaftError {
  constructor(reason: string) {
    super('MQ_ERR_UNAVAILABLE', `proposal dropped: ${reason}`, true);
  }
}

/** Proposals are refused while leadership moves to `transferee`; retry on the new leader. */
export class TransferInProgressError extends RaftError {
  readonly transferee: NodeId;

  constructor(transferee: NodeId) {
    super('MQ_ERR_NOT_LEADER', `leadership transfer to ${transferee} in progress`, true);
    this.transferee = transferee;
  }
}

/**
 * A membership change was refused: `retriable` when another change is still pending or the leader has
 * not committed an entry of its term yet; not retriable when the change itself is invalid.
 */
export class ConfChangeRejectedError extends RaftError {
  constructor(reason: string, retriable: boolean) {
    super(retriable ? 'MQ_ERR_UNAVAILABLE' : 'MQ_ERR_BAD_REQUEST', `membership change refused: ${reason}`, retriable);
  }
}

/** Storage: the requested index was compacted into a snapshot. */
export class CompactedError extends RaftError {
  constructor(index: number, firstIndex: number) {
    super('MQ_ERR_INTERNAL', `index ${index} is compacted (first index ${firstIndex})`, false);
  }
}

/** Storage: the requested index is beyond the last stored entry. */
export class UnavailableError extends RaftError {
  constructor(index: number, lastIndex: number) {
    super('MQ_ERR_INTERNAL', `index ${index} is not available (last index ${lastIndex})`, false);
  }
}

/** A message or entry payload could not be decoded (corrupt or from an incompatible version). */
export class CodecError extends RaftError {
  constructor(message: string) {
    super('MQ_ERR_BAD_REQUEST', `raft codec: ${message}`, false);
  }
}
