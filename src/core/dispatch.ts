import type { Frame } from '../protocol/messages.ts';
import { parseMessage } from '../protocol/parse.ts';
import type { HandlerContext, Handlers } from './handlers.ts';

/** Routes one authenticated frame to its handler; every failure is an error reply, never a throw. */
export async function dispatch(frame: Frame, handlers: Handlers, ctx: HandlerContext): Promise<void> {
  if (frame.kind !== 'text') {
    ctx.send({ type: 'error', code: 'binary_unsupported' });
    return;
  }
  const parsed = parseMessage(frame.data);
  if (!parsed.ok) {
    ctx.send({ type: 'error', id: parsed.id, code: parsed.code });
    return;
  }
  const { message } = parsed;
  const handler = Object.hasOwn(handlers, message.type) ? handlers[message.type] : undefined;
  if (handler === undefined) {
    ctx.send({ type: 'error', id: message.id, code: 'unknown_type' });
    return;
  }
  try {
    await handler(message, ctx);
  } catch (error) {
    ctx.logger.error({ type: message.type, err: errorName(error) }, 'handler.failed');
    ctx.send({ type: 'error', id: message.id, code: 'handler_failed' });
  }
}

/** Only the error's class name is logged: a message might quote client input. */
function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
