/**
 * Every error code that crosses the wire, with its HTTP status and whether a client may retry.
 * The wire form is `{"status":"failure","message":...,"code":...}` (see failureBody). docs/errors.md lists
 * every code; test/errors.test.ts keeps the two in sync.
 */
export const ERROR_CODES = {
  MQ_ERR_BAD_REQUEST: { status: 400, retriable: false, summary: 'The request is malformed or fails validation.' },
  MQ_ERR_PAYLOAD_TOO_LARGE: { status: 413, retriable: false, summary: 'The request body exceeds the size limit.' },
  MQ_ERR_NOT_FOUND: { status: 404, retriable: false, summary: 'The route does not exist.' },
  MQ_ERR_UNAUTHORIZED: { status: 401, retriable: false, summary: 'A required token is missing or wrong.' },
  MQ_ERR_TOPIC_EXISTS: { status: 409, retriable: false, summary: 'A topic with that name already exists.' },
  MQ_ERR_UNKNOWN_TOPIC: { status: 404, retriable: false, summary: 'No topic has that name.' },
  MQ_ERR_UNKNOWN_PARTITION: { status: 404, retriable: false, summary: 'The topic has no such partition, or this broker holds no replica of it.' },
  MQ_ERR_UNKNOWN_PRODUCER: { status: 404, retriable: false, summary: 'No producer has that id.' },
  MQ_ERR_UNKNOWN_CONSUMER: { status: 404, retriable: false, summary: 'No consumer has that id.' },
  MQ_ERR_NOT_REGISTERED: { status: 403, retriable: false, summary: 'The producer or consumer is not registered for that topic.' },
  MQ_ERR_NO_MESSAGE: { status: 404, retriable: true, summary: 'The consumer has consumed every message there is.' },
  MQ_ERR_NOT_LEADER: { status: 421, retriable: true, summary: 'This broker does not lead the partition; `leader` names the one that does, if known.' },
  MQ_ERR_NO_LEADER: { status: 503, retriable: true, summary: 'The partition has no leader right now (an election is under way).' },
  MQ_ERR_TIMEOUT: { status: 504, retriable: true, summary: 'The request did not complete in time; its outcome is unknown.' },
  MQ_ERR_OUT_OF_ORDER_SEQUENCE: { status: 409, retriable: false, summary: 'A producer batch skipped sequence numbers.' },
  MQ_ERR_OFFSET_OUT_OF_RANGE: { status: 416, retriable: false, summary: 'The requested offset is beyond the end of the partition or was deleted.' },
  MQ_ERR_UNKNOWN_BROKER: { status: 404, retriable: false, summary: 'No broker with that id is registered (a broker heartbeat without url/peer, or a reassignment naming it).' },
  MQ_ERR_NOT_ENOUGH_BROKERS: { status: 503, retriable: true, summary: 'Fewer live brokers than the replication factor asks for; nothing was created.' },
  MQ_ERR_NOT_PRIMARY: { status: 421, retriable: true, summary: 'This manager is a read replica and the write could not be forwarded.' },
  MQ_ERR_UNAVAILABLE: { status: 503, retriable: true, summary: 'A dependency (broker, database) is unreachable or overloaded.' },
  MQ_ERR_INTERNAL: { status: 500, retriable: true, summary: 'An unexpected error; details are in the server log.' },
} as const satisfies Record<string, { status: number; retriable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** The base of every myqueue error: a stable code, its HTTP status, a retriable flag and an optional cause. */
export class MyQueueError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  /** Extra fields carried on the wire, e.g. `leader` with MQ_ERR_NOT_LEADER. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause });
    this.name = 'MyQueueError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retriable = ERROR_CODES[code].retriable;
    this.details = Object.freeze({ ...options.details });
  }
}

export interface FailureBody {
  status: 'failure';
  message: string;
  code: ErrorCode;
  [detail: string]: unknown;
}

/** The wire form of an error. Never includes a stack trace. */
export function failureBody(error: MyQueueError): FailureBody {
  return { ...error.details, status: 'failure', message: error.message, code: error.code };
}

/** Turns a failure body received over HTTP back into an error (unknown codes become MQ_ERR_INTERNAL). */
export function errorFromBody(body: unknown, httpStatus: number): MyQueueError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = isErrorCode(b.code) ? b.code : httpStatus === 413 ? 'MQ_ERR_PAYLOAD_TOO_LARGE' : httpStatus === 404 ? 'MQ_ERR_NOT_FOUND' : httpStatus < 500 && httpStatus >= 400 ? 'MQ_ERR_BAD_REQUEST' : 'MQ_ERR_INTERNAL';
  const message = typeof b.message === 'string' ? b.message : `HTTP ${httpStatus}`;
  const { status: _s, message: _m, code: _c, ...details } = b;
  return new MyQueueError(code, message, { details });
}
