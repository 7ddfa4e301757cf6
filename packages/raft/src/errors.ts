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

  constructor(
    leader: NodeId,
    message = leader ? `not the leader; the leader is ${leader}` : 'not the leader; no leader known',
  ) {
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

/**
 * Storage: the requested index was compacted into a snapshot. This is THE CompactedError of the package
 * (storage implementations throw this one, so `instanceof` works across modules).
 */
export class CompactedError extends RaftError {
  readonly index: number;
  /** The first index still readable. */
  readonly firstAvailable: number;

  constructor(index: number, firstAvailable: number) {
    super('MQ_ERR_INTERNAL', `raft log index ${index} is compacted (first available ${firstAvailable})`, false);
    this.index = index;
    this.firstAvailable = firstAvailable;
  }
}

/** Storage: the requested index is beyond the last stored entry. The package's only UnavailableError. */
export class UnavailableError extends RaftError {
  readonly index: number;
  readonly lastIndex: number;

  constructor(index: number, lastIndex: number) {
    super('MQ_ERR_INTERNAL', `raft log index ${index} is unavailable (last index ${lastIndex})`, false);
    this.index = index;
    this.lastIndex = lastIndex;
  }
}

/** A message or entry payload could not be decoded (corrupt or from an incompatible version). */
export class CodecError extends RaftError {
  constructor(message: string) {
    super('MQ_ERR_BAD_REQUEST', `raft codec: ${message}`, false);
  }
}
