/** Bound (child) loggers: bindings merged into each line; no merged copy built for a level that is off. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundLogger, type Logger } from '../../src/logging/logger.ts';
import { createLogger } from '../../src/logging/pino.ts';

function spy(enabled?: (level: string) => boolean): { logger: Logger; calls: [string, Record<string, unknown>][] } {
  const calls: [string, Record<string, unknown>][] = [];
  const at = (level: string) => (fields: Record<string, unknown>) => void calls.push([level, fields]);
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  if (enabled !== undefined) logger.isLevelEnabled = enabled;
  return { logger, calls };
}

describe('BoundLogger', () => {
  it('does not call the parent for debug lines when the parent says debug is off', () => {
    const { logger, calls } = spy((level) => level !== 'debug');
    const child = new BoundLogger(logger, { conn: 'c1' });
    child.debug({ a: 1 }, 'quiet');
    child.info({ a: 2 }, 'loud');
    assert.deepEqual(calls, [['info', { conn: 'c1', a: 2 }]]);
  });

  it('merges and passes every line on when the parent cannot tell (a structural logger without isLevelEnabled)', () => {
    const { logger, calls } = spy();
    new BoundLogger(logger, { conn: 'c1' }).child({ sub: 'u' }).debug({ a: 1 }, 'line');
    assert.deepEqual(calls, [['debug', { conn: 'c1', sub: 'u', a: 1 }]]);
  });

  it('the pino logger: a child writes its debug lines at debug level and none at info', () => {
    const lines = (level: string) => {
      const out: string[] = [];
      createLogger(level, (line) => out.push(line))
        .child({ component: 'x' })
        .debug({ n: 1 }, 'ticket.issued');
      return out.map((line) => JSON.parse(line) as Record<string, unknown>);
    };
    assert.deepEqual(
      lines('debug').map(({ component, n, msg }) => ({ component, n, msg })),
      [{ component: 'x', n: 1, msg: 'ticket.issued' }],
    );
    assert.deepEqual(lines('info'), []);
  });
});
