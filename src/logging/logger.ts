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
  /** pino's: false when lines of `level` are dropped (a bound child then builds no fields for them). */
  isLevelEnabled?(level: string): boolean;
}

const noop: LogFn = () => {};

export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};

/**
 * A child that merges its bindings into each line's fields when the line is written, instead of
 * a real child of the logger (pino): per connection a pino child costs several hundred bytes of
 * heap for as long as the socket lives, and most connections write two or three lines.
 */
export class BoundLogger implements Logger {
  readonly #parent: Logger;
  readonly #bindings: Readonly<Record<string, unknown>>;

  constructor(parent: Logger, bindings: Readonly<Record<string, unknown>>) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  debug(fields: Record<string, unknown>, message: string): void {
    // Debug lines are off by default, and some come per request or per connect: no merged copy for nothing.
    if (this.#parent.isLevelEnabled?.('debug') === false) return;
    this.#parent.debug({ ...this.#bindings, ...fields }, message);
  }
  info(fields: Record<string, unknown>, message: string): void {
    this.#parent.info({ ...this.#bindings, ...fields }, message);
  }
  warn(fields: Record<string, unknown>, message: string): void {
    this.#parent.warn({ ...this.#bindings, ...fields }, message);
  }
  error(fields: Record<string, unknown>, message: string): void {
    this.#parent.error({ ...this.#bindings, ...fields }, message);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new BoundLogger(this.#parent, { ...this.#bindings, ...bindings });
  }
}
