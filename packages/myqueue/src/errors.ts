/**
 * Every error the client throws: one class per wire code, all built on protocol's MyQueueError, so callers
 * can `catch (e) { if (e instanceof NotLeaderError) ... }` or switch on `e.code`, and check `e.retriable`.
 *
 * Transport failures become errors of the same family: a connection that could not be opened is
 * UnavailableError (the request never reached the server), a request that got no answer in time is
 * TimeoutError (its outcome is unknown). A cancelled call rejects with the AbortSignal's reason instead.
 */
import { ERROR_CODES, MyQueueError, errorFromBody, type ErrorCode } from '@myqueue/protocol';

export { MyQueueError, type ErrorCode } from '@myqueue/protocol';

export interface ErrorOptions {
  readonly cause?: unknown;
  readonly details?: Record<string, unknown>;
}

function defineError<C extends ErrorCode>(code: C, name: string) {
  const cls = class extends MyQueueError {
    declare readonly code: C;
    constructor(message: string = ERROR_CODES[code].summary, options: ErrorOptions = {}) {
      super(code, message, options);
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

export const BadRequestError = defineError('MQ_ERR_BAD_REQUEST', 'BadRequestError');
export type BadRequestError = InstanceType<typeof BadRequestError>;
export const PayloadTooLargeError = defineError('MQ_ERR_PAYLOAD_TOO_LARGE', 'PayloadTooLargeError');
export type PayloadTooLargeError = InstanceType<typeof PayloadTooLargeError>;
export const NotFoundError = defineError('MQ_ERR_NOT_FOUND', 'NotFoundError');
export type NotFoundError = InstanceType<typeof NotFoundError>;
export const UnauthorizedError = defineError('MQ_ERR_UNAUTHORIZED', 'UnauthorizedError');
export type UnauthorizedError = InstanceType<typeof UnauthorizedError>;
export const TopicExistsError = defineError('MQ_ERR_TOPIC_EXISTS', 'TopicExistsError');
export type TopicExistsError = InstanceType<typeof TopicExistsError>;
export const UnknownTopicError = defineError('MQ_ERR_UNKNOWN_TOPIC', 'UnknownTopicError');
export type UnknownTopicError = InstanceType<typeof UnknownTopicError>;
export const UnknownPartitionError = defineError('MQ_ERR_UNKNOWN_PARTITION', 'UnknownPartitionError');
export type UnknownPartitionError = InstanceType<typeof UnknownPartitionError>;
export const UnknownProducerError = defineError('MQ_ERR_UNKNOWN_PRODUCER', 'UnknownProducerError');
export type UnknownProducerError = InstanceType<typeof UnknownProducerError>;
export const UnknownConsumerError = defineError('MQ_ERR_UNKNOWN_CONSUMER', 'UnknownConsumerError');
export type UnknownConsumerError = InstanceType<typeof UnknownConsumerError>;
export const NotRegisteredError = defineError('MQ_ERR_NOT_REGISTERED', 'NotRegisteredError');
export type NotRegisteredError = InstanceType<typeof NotRegisteredError>;
export const NoMessageError = defineError('MQ_ERR_NO_MESSAGE', 'NoMessageError');
export type NoMessageError = InstanceType<typeof NoMessageError>;
export const NoLeaderError = defineError('MQ_ERR_NO_LEADER', 'NoLeaderError');
export type NoLeaderError = InstanceType<typeof NoLeaderError>;
export const TimeoutError = defineError('MQ_ERR_TIMEOUT', 'TimeoutError');
export type TimeoutError = InstanceType<typeof TimeoutError>;
export const OutOfOrderSequenceError = defineError('MQ_ERR_OUT_OF_ORDER_SEQUENCE', 'OutOfOrderSequenceError');
export type OutOfOrderSequenceError = InstanceType<typeof OutOfOrderSequenceError>;
export const OffsetOutOfRangeError = defineError('MQ_ERR_OFFSET_OUT_OF_RANGE', 'OffsetOutOfRangeError');
export type OffsetOutOfRangeError = InstanceType<typeof OffsetOutOfRangeError>;
export const UnknownBrokerError = defineError('MQ_ERR_UNKNOWN_BROKER', 'UnknownBrokerError');
export type UnknownBrokerError = InstanceType<typeof UnknownBrokerError>;
export const NotEnoughBrokersError = defineError('MQ_ERR_NOT_ENOUGH_BROKERS', 'NotEnoughBrokersError');
export type NotEnoughBrokersError = InstanceType<typeof NotEnoughBrokersError>;
export const UnavailableError = defineError('MQ_ERR_UNAVAILABLE', 'UnavailableError');
export type UnavailableError = InstanceType<typeof UnavailableError>;
export const InternalError = defineError('MQ_ERR_INTERNAL', 'InternalError');
export type InternalError = InstanceType<typeof InternalError>;

/** 421 from a broker that does not lead the partition: `leader`/`leaderUrl` name the one that does, if known. */
export class NotLeaderError extends defineError('MQ_ERR_NOT_LEADER', 'NotLeaderError') {
  get leader(): string | null {
    return typeof this.details.leader === 'string' ? this.details.leader : null;
  }
  get leaderUrl(): string | null {
    return typeof this.details.leaderUrl === 'string' ? this.details.leaderUrl : null;
  }
}

/** 421 from a manager replica that could not forward a write: `primaryUrl` names the primary, if known. */
export class NotPrimaryError extends defineError('MQ_ERR_NOT_PRIMARY', 'NotPrimaryError') {
  get primaryUrl(): string | null {
    return typeof this.details.primaryUrl === 'string' ? this.details.primaryUrl : null;
  }
}

type ErrorClass = new (message?: string, options?: ErrorOptions) => MyQueueError;

/** The class of each code; a test checks every code of the protocol has one. */
export const ERROR_CLASSES: { readonly [C in ErrorCode]: ErrorClass } = {
  MQ_ERR_BAD_REQUEST: BadRequestError,
  MQ_ERR_PAYLOAD_TOO_LARGE: PayloadTooLargeError,
  MQ_ERR_NOT_FOUND: NotFoundError,
  MQ_ERR_UNAUTHORIZED: UnauthorizedError,
  MQ_ERR_TOPIC_EXISTS: TopicExistsError,
  MQ_ERR_UNKNOWN_TOPIC: UnknownTopicError,
  MQ_ERR_UNKNOWN_PARTITION: UnknownPartitionError,
  MQ_ERR_UNKNOWN_PRODUCER: UnknownProducerError,
  MQ_ERR_UNKNOWN_CONSUMER: UnknownConsumerError,
  MQ_ERR_NOT_REGISTERED: NotRegisteredError,
  MQ_ERR_NO_MESSAGE: NoMessageError,
  MQ_ERR_NOT_LEADER: NotLeaderError,
  MQ_ERR_NO_LEADER: NoLeaderError,
  MQ_ERR_TIMEOUT: TimeoutError,
  MQ_ERR_OUT_OF_ORDER_SEQUENCE: OutOfOrderSequenceError,
  MQ_ERR_OFFSET_OUT_OF_RANGE: OffsetOutOfRangeError,
  MQ_ERR_UNKNOWN_BROKER: UnknownBrokerError,
  MQ_ERR_NOT_ENOUGH_BROKERS: NotEnoughBrokersError,
  MQ_ERR_NOT_PRIMARY: NotPrimaryError,
  MQ_ERR_UNAVAILABLE: UnavailableError,
  MQ_ERR_INTERNAL: InternalError,
};

/** Creates the typed error for a code. */
export function createError(code: ErrorCode, message?: string, options: ErrorOptions = {}): MyQueueError {
  return new ERROR_CLASSES[code](message, options);
}

/** Turns a failure body and HTTP status into the typed error (unknown codes become InternalError). */
export function errorFromResponse(body: unknown, httpStatus: number): MyQueueError {
  const base = errorFromBody(body, httpStatus);
  return createError(base.code, base.message, { details: { ...base.details, httpStatus } });
}

// undici error codes that mean the request never left this process: safe to send again anywhere.
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);
// ...and those that mean an answer never came: the outcome is unknown.
const NO_ANSWER = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_CLOSED',
]);

function errorCodeOf(e: unknown): string | undefined {
  for (
    let cur = e, depth = 0;
    cur && typeof cur === 'object' && depth < 4;
    cur = (cur as { cause?: unknown }).cause, depth++
  ) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && (NOT_SENT.has(code) || NO_ANSWER.has(code))) return code;
  }
  return undefined;
}

/**
 * Normalises anything a transport call threw: MyQueueErrors pass through, abort reasons pass through,
 * network failures become UnavailableError (`details.sent === false`) or TimeoutError (outcome unknown).
 */
export function toMyQueueError(e: unknown, url?: string): MyQueueError {
  if (e instanceof MyQueueError) return e;
  const code = errorCodeOf(e);
  const where = url ? ` (${url})` : '';
  if (code && NOT_SENT.has(code))
    return new UnavailableError(`cannot connect${where}: ${code}`, { cause: e, details: { sent: false, url } });
  if (code && NO_ANSWER.has(code))
    return new TimeoutError(`no answer${where}: ${code}; the outcome is unknown`, { cause: e, details: { url } });
  const message = e instanceof Error ? e.message : String(e);
  return new UnavailableError(`request failed${where}: ${message}`, { cause: e, details: { url } });
}

/** True when an error says the request certainly did not take effect (safe to retry without idempotence). */
export function certainlyNotApplied(e: MyQueueError): boolean {
  if (e.details.sent === false) return true;
  return e.code !== 'MQ_ERR_TIMEOUT' && e.code !== 'MQ_ERR_INTERNAL' && e.code !== 'MQ_ERR_UNAVAILABLE';
}

/**
 * True when a failed produce attempt leaves open that its batch was stored. Only failures that prove the
 * batch never reached a Raft log rule it out (a connection never opened, a request refused as malformed or
 * unauthorized, a sequence rejected). A 421/503 (not leader, no leader) does not: a leader that loses
 * leadership with the batch in its log answers it too, and the next leader may still commit the batch
 * (docs/api.md). A batch is certainly not stored only if every attempt failed that way.
 */
export function produceMayHaveStored(e: MyQueueError): boolean {
  if (e.code === 'MQ_ERR_NOT_LEADER' || e.code === 'MQ_ERR_NO_LEADER') return e.details.sent !== false;
  return !certainlyNotApplied(e);
}

/** Thrown by calls on a producer or consumer after stop()/close(). */
export function closedError(what: string): MyQueueError {
  return new BadRequestError(`${what} is stopped`, { details: { closed: true } });
}
