import type { Logger } from '../../src/logging/logger.ts';

export type LogEntry = { level: string; fields: Record<string, unknown>; message: string };

/** A Logger that records every line (with its child bindings) into `entries`. */
export function spyLogger(entries: LogEntry[], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (fields: Record<string, unknown>, message: string) =>
    entries.push({ level, fields: { ...bindings, ...fields }, message });
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => spyLogger(entries, { ...bindings, ...more }),
  };
}
