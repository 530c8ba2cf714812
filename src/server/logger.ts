import { pino } from 'pino';
import type { Logger } from '../core/logger.ts';

/** Fields that may hold a secret anywhere in a log object: censored by pino before writing. */
export const redactedPaths = [
  'ticket', '*.ticket', 'password', '*.password', 'secret', '*.secret', 'token', '*.token',
  'cookie', '*.cookie', 'authorization', '*.authorization', 'headers.cookie', 'headers.authorization',
  'sid', '*.sid',
];

export function createLogger(level: string, write?: (line: string) => void): Logger {
  const options = { level, base: undefined, redact: { paths: redactedPaths, censor: '[redacted]' } };
  return write ? pino(options, { write }) : pino(options);
}
