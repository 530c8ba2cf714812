/** The built-in `ping` handler. */
import type { Handler } from '../core/handler.ts';

/** `{"type":"ping","id"}` → `{"type":"pong","id"}`. */
export const ping: Handler = (message, ctx) => {
  ctx.send({ type: 'pong', id: message.id });
};
