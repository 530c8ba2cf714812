import type { Frame } from '../protocol/messages.ts';
import { parseMessage } from '../protocol/parse.ts';
import type { Handler, HandlerContext, Handlers } from './handler.ts';

/**
 * Routes one authenticated frame to its handler; every failure is an error reply, never a throw.
 * `refresh` is handled by the connection itself. Synchronous unless the handler returns a promise: then that promise (which never rejects) is
 * returned, and the caller holds the socket's later frames behind it.
 */
export function dispatch(frame: Frame, handlers: Handlers, ctx: HandlerContext, refresh: Handler): Promise<void> | undefined {
  if (frame.kind !== 'text') {
    ctx.send({ type: 'error', code: 'binary_unsupported' });
    return undefined;
  }
  const parsed = parseMessage(frame.data);
  if (!parsed.ok) {
    ctx.send({ type: 'error', id: parsed.id, code: parsed.code });
    return undefined;
  }
  const { message } = parsed;
  // `refresh` is reserved by the protocol: a handler table cannot replace it.
  const handler = message.type === 'refresh' ? refresh : Object.hasOwn(handlers, message.type) ? handlers[message.type] : undefined;
  if (handler === undefined) {
    ctx.send({ type: 'error', id: message.id, code: 'unknown_type' });
    return undefined;
  }
  const failed = (error: unknown) => {
    ctx.logger.error({ type: message.type, err: errorName(error) }, 'handler.failed');
    ctx.send({ type: 'error', id: message.id, code: 'handler_failed' });
  };
  try {
    const result = handler(message, ctx);
    return result instanceof Promise ? result.then(undefined, failed) : undefined;
  } catch (error) {
    failed(error);
    return undefined;
  }
}

/** Only the error's class name is logged: a message might quote client input. */
function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
