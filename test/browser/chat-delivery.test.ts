/**
 * The chat's delivery as a person sees it in Chromium: who is here and join/leave lines; the
 * messages sent while one's connection was down, shown once it comes back (marked "missed");
 * a visible "some messages may be missing" note, with the latest reloaded, when more was missed
 * than the server keeps; and the same recovery after Disconnect → Connect. The network drop is
 * Playwright's WebSocket route closing the page's socket and refusing new ones for a while.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { startServer, type ServerProcess } from '../support/server-process.ts';
import { ensureSdkBuilt, launch, screenshot } from './support.ts';

/** The chat keeps 5 messages here, so "away longer than the history reaches" takes only 7. */
const KEPT = 5;
const namespaces = { chat: { 'history-size': KEPT, 'history-ttl': '5m', recovery: true, presence: true, 'join-leave': true } };

/** The page's WebSocket through a route the test can cut, like a network that goes away and comes back. */
class Network {
  #online = true;
  /** Each open socket as [the page's side, the server's side]. */
  #open: [WebSocketRoute, WebSocketRoute][] = [];

  static async attach(page: Page): Promise<Network> {
    const network = new Network();
    await page.routeWebSocket(/\/ws$/, (ws) => {
      if (!network.#online) return ws.close({ code: 1001, reason: 'network down (test)' });
      network.#open.push([ws, ws.connectToServer()]);
    });
    return network;
  }

  /** Closes both ends of the page's socket and refuses new ones until restore(). */
  async drop(): Promise<void> {
    this.#online = false;
    for (const [page, server] of this.#open.splice(0)) {
      // The server's end is the page's native WebSocket, whose close() takes only 1000 and 3000–4999.
      await server.close({ code: 1000, reason: 'network down (test)' });
      await page.close({ code: 1001, reason: 'network down (test)' });
    }
  }

  restore(): void {
    this.#online = true;
  }
}

async function logIn(page: Page, origin: string, user: string, password: string): Promise<void> {
  await page.goto(`${origin}/client.html`);
  await page.locator('#login-form').waitFor({ state: 'visible', timeout: 5_000 });
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Password').press('Enter');
  await page.locator('#status[data-state="open"]').waitFor({ timeout: 10_000 });
  await page.locator('#log', { hasText: 'subscribed to chat:lobby' }).waitFor({ timeout: 5_000 });
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Chat message').fill(text);
  await page.getByLabel('Chat message').press('Enter');
  await page.locator('.chat-message.mine', { hasText: text }).waitFor({ timeout: 5_000 });
}

const chatLines = (page: Page, kind: 'event' | 'note') => page.locator(`#chat-list .chat-${kind}`);
const here = (page: Page) => page.locator('#chat-here');

describe('chat delivery in Chromium: presence, missed messages, resync', { timeout: 120_000 }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let demoPage: Page;
  let alicePage: Page;
  let network: Network;
  const problems: string[] = [];

  before(async () => {
    ensureSdkBuilt();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hws-chat-'));
    const config = path.join(dir, 'hardened-ws.json');
    writeFileSync(config, JSON.stringify({ namespaces }));
    server = await startServer('node', {
      args: [
        '--config',
        config,
        '--demo-users',
        'demo:demo,alice:alice-password',
        '--login-rate',
        '100/s,1000',
        '--ticket-rate',
        '100/s,1000',
      ],
    });
    browser = await launch();
    demoPage = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    alicePage = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    for (const page of [demoPage, alicePage]) {
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error' && !/401|Unauthorized/.test(msg.text())) problems.push(`console: ${msg.text()}`);
      });
    }
    network = await Network.attach(demoPage);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows who is here, and a line when someone joins', async () => {
    await logIn(demoPage, server.origin, 'demo', 'demo');
    await here(demoPage)
      .filter({ hasText: /^demo \(you\)$/ })
      .waitFor({ timeout: 5_000 });
    await logIn(alicePage, server.origin, 'alice', 'alice-password');
    await chatLines(demoPage, 'event').filter({ hasText: 'alice joined' }).waitFor({ timeout: 5_000 });
    await here(demoPage)
      .filter({ hasText: /^alice, demo \(you\)$/ })
      .waitFor({ timeout: 5_000 });
    await here(alicePage)
      .filter({ hasText: /^alice \(you\), demo$/ })
      .waitFor({ timeout: 5_000 });
    await say(alicePage, 'hello while everyone is here');
    await demoPage.locator('.chat-message', { hasText: 'hello while everyone is here' }).waitFor({ timeout: 5_000 });
  });

  it('messages sent while the connection was down appear once it is back, once each, marked missed', async () => {
    await network.drop();
    await demoPage.locator('#status[data-state="reconnecting"], #status[data-state="connecting"]').first().waitFor({ timeout: 5_000 });
    await chatLines(alicePage, 'event').filter({ hasText: 'demo left' }).waitFor({ timeout: 5_000 });
    await here(alicePage)
      .filter({ hasText: /^alice \(you\)$/ })
      .waitFor({ timeout: 5_000 });
    await say(alicePage, 'sent while demo was away (1)');
    await say(alicePage, 'sent while demo was away (2)');
    assert.equal(
      await demoPage.locator('.chat-message', { hasText: 'while demo was away' }).count(),
      0,
      'not before the connection is back',
    );

    network.restore();
    await demoPage.locator('#status[data-state="open"]').waitFor({ timeout: 30_000 });
    const note = chatLines(demoPage, 'note').filter({ hasText: 'Back online: 2 messages sent while you were away' });
    await note.waitFor({ timeout: 5_000 });
    for (const n of [1, 2]) {
      const message = demoPage.locator('.chat-message', { hasText: `sent while demo was away (${n})` });
      assert.equal(await message.count(), 1, `message ${n} shown exactly once`);
      assert.ok(await message.evaluate((e) => e.classList.contains('recovered')), `message ${n} is marked as missed`);
      assert.equal(await message.locator('.chat-tag').textContent(), 'missed');
    }
    assert.equal(await demoPage.locator('.chat-message', { hasText: 'hello while everyone is here' }).count(), 1, 'nothing shown twice');
    await chatLines(alicePage, 'event').filter({ hasText: 'demo joined' }).waitFor({ timeout: 5_000 });
    await here(alicePage)
      .filter({ hasText: /^alice \(you\), demo$/ })
      .waitFor({ timeout: 5_000 });
    await screenshot(demoPage, 'chat-recovered-laptop');

    // Live messages go on after the recovered ones.
    await say(alicePage, 'live again');
    await demoPage.locator('.chat-message:not(.recovered)', { hasText: 'live again' }).waitFor({ timeout: 5_000 });
  });

  it('away for longer than the history reaches: a visible note, and the latest messages reloaded', async () => {
    await network.drop();
    await chatLines(alicePage, 'event').filter({ hasText: 'demo left' }).nth(1).waitFor({ timeout: 5_000 });
    for (let i = 1; i <= KEPT + 2; i++) await say(alicePage, `burst ${i}`);
    network.restore();
    await demoPage.locator('#status[data-state="open"]').waitFor({ timeout: 30_000 });
    await chatLines(demoPage, 'note').filter({ hasText: 'Some messages may be missing' }).waitFor({ timeout: 5_000 });
    await demoPage.locator('.chat-message', { hasText: `burst ${KEPT + 2}` }).waitFor({ timeout: 5_000 });
    const shown = await demoPage.locator('.chat-message .chat-text').allTextContents();
    assert.deepEqual(
      shown,
      Array.from({ length: KEPT }, (_, i) => `burst ${i + 3}`),
      'the list was reloaded with what the server keeps',
    );
    await screenshot(demoPage, 'chat-resync-laptop');
  });

  it('Disconnect, then Connect: the page resumes from where it was and shows what was missed', async () => {
    await demoPage.getByRole('button', { name: 'Disconnect' }).click();
    await demoPage.locator('#status', { hasText: 'Disconnected' }).waitFor({ timeout: 5_000 });
    await say(alicePage, 'sent during the disconnect');
    await demoPage.getByRole('button', { name: 'Connect', exact: true }).click();
    await demoPage.locator('#status[data-state="open"]').waitFor({ timeout: 10_000 });
    const message = demoPage.locator('.chat-message.recovered', { hasText: 'sent during the disconnect' });
    await message.waitFor({ timeout: 5_000 });
    await chatLines(demoPage, 'note').filter({ hasText: 'Back online: 1 message sent while you were away' }).waitFor({ timeout: 5_000 });
    assert.match((await demoPage.locator('#log').textContent()) ?? '', /subscribed to chat:lobby \(resuming after message \d+\)/);
  });

  it('the pages reported no errors', () => {
    assert.deepEqual(problems, []);
  });
});
