/** The handlers the server ships with: echo and ping. */
import type { Handlers } from '../core/handler.ts';
import { echo } from './echo.ts';
import { ping } from './ping.ts';

export { echo, ping };

/** The handlers the server ships with. */
export const builtinHandlers: Handlers = Object.freeze({ echo, ping });
