import { MyQueueError, type ErrorCode } from '@myqueue/protocol';
import { RaftError } from '@myqueue/raft';

/**
 * The broker's errors: every failure that reaches a client is a MyQueueError with a wire code from
 * @myqueue/protocol (docs/errors.md). These helpers build the ones the broker raises.
 */
export function notLeader(group: string, leader: string | null, leaderUrl: string | null): MyQueueError {
  if (!leader) {
    return new MyQueueError('MQ_ERR_NO_LEADER', `partition ${group} has no leader right now; retry shortly`, {
      details: { leader: null, leaderUrl: null },
    });
  }
  return new MyQueueError('MQ_ERR_NOT_LEADER', `broker does not lead partition ${group}; its leader is ${leader}`, {
    details: { leader, leaderUrl },
  });
}

export function unknownPartition(topic: string, partition: number): MyQueueError {
  return new MyQueueError('MQ_ERR_UNKNOWN_PARTITION', `this broker holds no replica of ${topic}/${partition}`);
}

export function badRequest(message: string): MyQueueError {
  return new MyQueueError('MQ_ERR_BAD_REQUEST', message);
}

export function timeout(what: string): MyQueueError {
  return new MyQueueError('MQ_ERR_TIMEOUT', `${what} did not complete in time; its outcome is unknown`);
}

export function unavailable(message: string, cause?: unknown): MyQueueError {
  return new MyQueueError('MQ_ERR_UNAVAILABLE', message, { cause });
}

/** Turns anything thrown into a MyQueueError (unknown errors become MQ_ERR_INTERNAL, logged by the caller). */
export function toMyQueueError(err: unknown): MyQueueError {
  if (err instanceof MyQueueError) return err;
  if (err instanceof RaftError) {
    const code = (err.code.startsWith('MQ_ERR_') ? err.code : 'MQ_ERR_INTERNAL') as ErrorCode;
    return new MyQueueError(code, err.message, { cause: err });
  }
  return new MyQueueError('MQ_ERR_INTERNAL', 'internal error', { cause: err });
}
