/** The one deadline helper (src/auth/deadline.ts): who settles, once, and what the task's signal says. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withDeadline } from '../../src/auth/deadline.ts';

const never = () => new Promise<string>(() => {});

describe('withDeadline', () => {
  it('passes the task result through and leaves its signal unaborted', async () => {
    let seen: AbortSignal | undefined;
    const result = await withDeadline(
      (signal) => ((seen = signal), Promise.resolve('ok')),
      { ms: 1_000 },
      () => 'timeout',
      () => 'error',
    );
    assert.equal(result, 'ok');
    assert.equal(seen?.aborted, false);
  });

  it('settles with onTimeout once at its own deadline and aborts the task', async () => {
    let seen: AbortSignal | undefined;
    let timeouts = 0;
    const result = await withDeadline(
      (signal) => ((seen = signal), never()),
      { ms: 5 },
      () => (timeouts++, 'timeout'),
      () => 'error',
    );
    assert.equal(result, 'timeout');
    assert.equal(seen?.aborted, true);
    assert.equal(timeouts, 1);
  });

  it('follows the caller’s signal: its abort settles with onTimeout once and reaches the task', async () => {
    const outer = new AbortController();
    let seen: AbortSignal | undefined;
    let timeouts = 0;
    const pending = withDeadline(
      (signal) => ((seen = signal), never()),
      { outer: outer.signal },
      () => (timeouts++, 'timeout'),
      () => 'error',
    );
    assert.equal(seen?.aborted, false);
    outer.abort();
    assert.equal(await pending, 'timeout');
    assert.equal(seen?.aborted, true);
    assert.equal(timeouts, 1);
  });

  it('with both, whichever comes first settles it, once', async () => {
    const outer = new AbortController();
    let timeouts = 0;
    const result = await withDeadline(
      never,
      { ms: 5, outer: outer.signal },
      () => (timeouts++, 'timeout'),
      () => 'error',
    );
    outer.abort();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(result, 'timeout');
    assert.equal(timeouts, 1);
  });

  it('an already aborted caller’s signal: onTimeout, and the task starts with an aborted signal', async () => {
    let seen: AbortSignal | undefined;
    const result = await withDeadline(
      (signal) => ((seen = signal), never()),
      { outer: AbortSignal.abort() },
      () => 'timeout',
      () => 'error',
    );
    assert.equal(result, 'timeout');
    assert.equal(seen?.aborted, true);
  });

  it('a throw, synchronous or not, is onError; it never rejects', async () => {
    const sync = await withDeadline(
      () => {
        throw new Error('boom');
      },
      { ms: 1_000 },
      () => 'timeout',
      (error) => `error:${(error as Error).message}`,
    );
    const async = await withDeadline(
      () => Promise.reject(new Error('late')),
      { outer: new AbortController().signal },
      () => 'timeout',
      (error) => `error:${(error as Error).message}`,
    );
    assert.deepEqual([sync, async], ['error:boom', 'error:late']);
  });

  it('removes its listener from the caller’s signal when it settles', async () => {
    const outer = new AbortController();
    let added = 0;
    let removed = 0;
    const signal = outer.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => (added++, add(...args))) as typeof add;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => (removed++, remove(...args))) as typeof remove;
    await withDeadline(
      () => 'ok',
      { outer: signal },
      () => 'timeout',
      () => 'error',
    );
    assert.ok(added >= 1);
    assert.equal(removed, added);
  });
});
