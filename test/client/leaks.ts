/** The leak assertion shared by the unit test files. */
import assert from 'node:assert/strict';

export function assertNoLeaks({ tickets, texts }: { tickets: string[]; texts: string[] }): void {
  assert.ok(tickets.length > 0, 'tickets were issued');
  assert.ok(texts.length > 0, 'something was logged or thrown');
  for (const ticket of tickets) {
    for (const text of texts)
      assert.ok(!text.includes(ticket) && !text.includes('SECRET'), `a ticket leaked into: ${text.replace(/SECRET[-\w]*/g, '<ticket>')}`);
  }
}
