/**
 * The demo page in real Chromium where a session ends and where an origin is refused: a short
 * sliding session is refreshed once, found final at its maximum age and expires with 4410 — the
 * page says so and offers the login, with no ticket spent after the end; a page whose origin may
 * not open /ws says why, at login and when the SDK's ticket request is refused, after one request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startServer, type ServerProcess } from '../support/server-process.ts';
import { ensureSdkBuilt, launch, screenshot } from './support.ts';

const LAPTOP = { width: 1280, height: 800 };
const common = ['--demo-users', 'demo:demo', '--login-rate', '100/s,1000', '--ticket-rate', '100/s,1000'];

/** Counts what the page asks for: ticket requests and WebSocket opens. */
function countRequests(page: Page): { tickets: number; sockets: number } {
  const counts = { tickets: 0, sockets: 0 };
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/auth/ticket') counts.tickets++;
  });
  page.on('websocket', () => counts.sockets++);
  return counts;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('demo page: session end and refused origin, in Chromium', { timeout: 60_000 }, () => {
  let browser: Browser;
  before(async () => {
    ensureSdkBuilt();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  describe('a sliding session of 5 s with an 8 s maximum and the warning 2 s before the end', () => {
    let server: ServerProcess;
    before(async () => {
      server = await startServer('node', {
        args: [...common, '--session-ttl', '5s', '--session-max-age', '8s', '--session-warning', '2s'],
      });
    });
    after(async () => {
      await server?.stop();
    });

    it('refreshes once, then reports the end as final, then says the session expired and offers the login', async () => {
      const context = await browser.newContext({ viewport: LAPTOP });
      const page = await context.newPage();
      const counts = countRequests(page);
      await page.goto(`${server.origin}/client.html`);
      await page.getByLabel('Username').fill('demo');
      await page.getByLabel('Password').fill('demo');
      await page.getByLabel('Password').press('Enter');
      await page.locator('#status[data-state="open"]').waitFor({ timeout: 5_000 });
      const firstExp = await page.locator('#exp-text').textContent();

      // Timings: the warning comes 2 s before exp, so at least 2 s after connecting (3 s less the
      // whole-second rounding); its ticket slides the end to login + 8 s, the maximum, so exactly
      // one refresh extends and the next warning finds the end final.
      // The first warning: the new ticket's session ends later, so the SDK refreshes.
      await page.locator('#log', { hasText: 'session refreshed: now until' }).waitFor({ timeout: 5_000 });
      assert.notEqual(await page.locator('#exp-text').textContent(), firstExp, 'the page shows the new end');
      // The second warning: the session is at its maximum age, nothing is sent.
      await page.locator('#log', { hasText: 'cannot be extended past' }).waitFor({ timeout: 5_000 });
      assert.match((await page.locator('#exp-text').textContent()) ?? '', /\(final\)$/);
      await screenshot(page, 'session-final');

      await page.locator('#status[data-state="expired"]').waitFor({ timeout: 5_000 });
      assert.equal(await page.locator('#status').textContent(), 'Session expired');
      assert.equal(await page.locator('#login-status').textContent(), 'Your session expired. Log in again to continue.');
      assert.ok(await page.locator('#login-form').isVisible(), 'the login form is offered');
      assert.equal(await page.getByLabel('Username').inputValue(), 'demo', 'with the name filled in');
      const info = page.locator('#close-info[data-code="4410"]');
      assert.match((await info.textContent()) ?? '', /Closed with code 4410: session expired.*the client stopped instead of reconnecting/s);
      await screenshot(page, 'session-expired');

      // One ticket to connect, one per warning; none after the end, and no 4401 on the way.
      await sleep(1_500);
      assert.equal(counts.tickets, 3);
      assert.equal(counts.sockets, 1, 'no reconnect after 4410');
      const log = (await page.locator('#log').textContent()) ?? '';
      assert.doesNotMatch(log, /4401/);
      assert.equal((log.match(/session refreshed/g) ?? []).length, 1, 'one refresh');
      const frames = server.logs().filter((l) => l.msg === 'refresh.ok').length;
      assert.equal(frames, 1, 'the server verified one refresh');
      assert.equal(server.logs().filter((l) => l.msg === 'auth.rejected').length, 0, 'no ticket was rejected');

      // The offer works: logging in again connects.
      await page.getByLabel('Password').fill('demo');
      await page.getByLabel('Password').press('Enter');
      await page.locator('#status[data-state="open"]').waitFor({ timeout: 5_000 });
      assert.equal(await page.locator('#close-info').isHidden(), true);
      await context.close();
    });
  });

  describe('a server whose allowed origins do not include the page’s', () => {
    let server: ServerProcess;
    before(async () => {
      server = await startServer('node', { args: [...common, '--allowed-origins', 'https://app.example'] });
    });
    after(async () => {
      await server?.stop();
    });

    it('logging in from the page: refused, and the page says why', async () => {
      const context = await browser.newContext({ viewport: LAPTOP });
      const page = await context.newPage();
      await page.goto(`${server.origin}/client.html`);
      await page.getByLabel('Username').fill('demo');
      await page.getByLabel('Password').fill('demo');
      await page.getByLabel('Password').press('Enter');
      const status = page.locator('#login-status[data-state="error"]');
      await status.waitFor({ timeout: 5_000 });
      assert.match(
        (await status.textContent()) ?? '',
        new RegExp(`origin \\(${server.origin.replace(/\./g, '\\.')}\\) is not allowed.*origin_not_allowed.*--allowed-origins`),
      );
      assert.equal(await page.locator('#connect').isDisabled(), true);
      await context.close();
    });

    it('logged in already (the allowlist changed): the SDK stops after one refused ticket request, and the page says why', async () => {
      // A session made without a page (no Origin header), its cookie handed to the browser.
      const login = await fetch(`${server.origin}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'demo', password: 'demo' }),
      });
      assert.equal(login.status, 204);
      const [name, value] = (login.headers.get('set-cookie') ?? '').split(';')[0]!.split('=') as [string, string];
      const context = await browser.newContext({ viewport: LAPTOP });
      await context.addCookies([{ name, value, url: server.origin }]);
      const page = await context.newPage();
      const counts = countRequests(page);
      await page.goto(`${server.origin}/client.html`);
      await page.locator('#status[data-state="closed"]', { hasText: 'Refused' }).waitFor({ timeout: 5_000 });
      assert.equal(await page.locator('#whoami').textContent(), 'demo', 'the session itself is fine');
      const info = (await page.locator('#close-info').textContent()) ?? '';
      assert.match(info, /Could not connect: no ticket for this page/);
      assert.match(info, /is not allowed to open the WebSocket on this server.*403 origin_not_allowed.*--allowed-origins/);
      await screenshot(page, 'origin-refused');
      await sleep(2_000);
      assert.equal(counts.tickets, 1, 'one ticket request, not one per retry');
      assert.equal(counts.sockets, 0, 'no socket was opened');
      await context.close();
    });
  });
});
