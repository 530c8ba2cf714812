/** The built-in `echo` handler. */
import type { Handler } from '../core/handler.ts';

/** `{"type":"echo","id","data"}` → the same message back. */
export const echo: Handler = (message, ctx) => {
  ctx.send({ type: 'echo', id: message.id, data: message.data });
};
