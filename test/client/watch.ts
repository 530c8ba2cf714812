/** Records a subscription's events as short lines, in the order the app heard them. */
import type { Subscription } from '../../src/client/index.ts';

export function watch(subscription: Subscription): string[] {
  const seen: string[] = [];
  subscription.on('message', (m) => seen.push(`message ${m.offset ?? '-'} ${JSON.stringify(m.data)}${m.recovered ? ' recovered' : ''}`));
  subscription.on('subscribed', (s) =>
    seen.push(
      `subscribed ${s.position ? s.position.offset : '-'}${s.wasRecovering ? (s.recovered ? ' recovered' : ' not-recovered') : ''}`,
    ),
  );
  subscription.on('resync', (r) => seen.push(`resync ${r.reason}`));
  subscription.on('join', (p) => seen.push(`join ${p.sub} ${p.conn}`));
  subscription.on('leave', (p) => seen.push(`leave ${p.sub} ${p.conn}`));
  subscription.on('unsubscribed', (u) => seen.push(`unsubscribed${u.error ? ` ${(u.error as { code?: string }).code}` : ''}`));
  return seen;
}
