/**
 * The logging surface the library needs: a structural subset of pino's Logger, so a pino
 * instance can be passed as is, and the library does not depend on pino.
 * Fields are structured; callers never put tickets, tokens, cookies or secrets in them.
 */
export interface LogFn {
  (fields: Record<string, unknown>, message: string): void;
}

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const noop: LogFn = () => {};

export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
