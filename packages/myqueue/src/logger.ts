/**
 * The logger the client accepts: pino, bunyan and console-like objects fit (`logger.warn({ err }, 'msg')`).
 * The client does not depend on any logging library; without one it logs nothing.
 */
export type LogFn = (objOrMsg: Record<string, unknown> | string, msg?: string) => void;

export interface Logger {
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
}

const noop: LogFn = () => undefined;

/** Discards everything. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
