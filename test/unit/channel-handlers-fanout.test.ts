/**
 * The channel handler tests again, with deliveries through a runtime's topics (core/fanout.ts over
 * FakeTopics): offsets, epochs, recovery and its seam, gap repair and resync must come out the
 * same when live members get one topic publish instead of one send each. Then what only the topic
 * path has: who is in the topic, and that publishes actually went through it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fanoutMode } from './channel-support.ts';

fanoutMode.on = true;
await import('./channel-handlers.test.ts');

describe('channel handlers through the runtime topics', () => {
  after(() => {
    fanoutMode.on = false;
  });
  it('the tests above delivered through topic publishes, and every socket left its topics', () => {
    assert.ok(fanoutMode.topics.publishes > 100, `deliveries went through the topics (${fanoutMode.topics.publishes} publishes)`);
  });
});
