/** Runs the handler of one parsed, authenticated message (the connection machine parsed it). */
import type { InboundMessage } from '../protocol/messages.ts';
import type { HandlerContext, Handlers } from './handler.ts';

/**
 * Routes one message to its handler; every failure is an error reply, never a throw. Synchronous
 * unless the handler returns a promise: then that promise (which never rejects) is returned, and
 * the caller holds the socket's later frames behind it.
 */
export function dispatch(message: InboundMessage, handlers: Handlers, ctx: HandlerContext): Promise<void> | undefined {
  const handler = Object.hasOwn(handlers, message.type) ? handlers[message.type] : undefined;
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
