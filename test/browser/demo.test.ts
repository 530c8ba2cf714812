/**
 * The demo page in real Chromium (Debian's, headless, driven by playwright-core): log in → connect
 * → echo → two users chat over chat:lobby → disconnect and reconnect with no stale status → a
 * reload keeps the login → logging out is a normal end here and a 4409 in the other tab → the same
 * over wss:// → a page from another origin cannot hijack the socket → the log does not grow the
 * page. Screenshots of each step go to test-artifacts/screenshots/.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { testCerts } from '../support/certs.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';
import { startAttacker, type Attacker } from './attacker.ts';
import { ensureSdkBuilt, launch, resetScreenshots, screenshot, trustingHome } from './support.ts';

const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const serverArgs = ['--demo-users', 'demo:demo,alice:alice-password', '--login-rate', '100/s,1000', '--ticket-rate', '100/s,1000'];

/** Errors the page itself reports (CSP violations, exceptions): there must be none. */
function watchPage(page: Page, problems: string[]): Page {
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/401|Unauthorized/.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  return page;
}

async function logIn(page: Page, origin: string, user: string, password: string, shot?: string): Promise<void> {
  await page.goto(`${origin}/client.html`);
  // No session yet: once the page has asked, the login form shows and Connect stays disabled.
  await page.locator('#login-form').waitFor({ state: 'visible', timeout: 5_000 });
  assert.equal(await page.locator('#connect').isDisabled(), true, 'Connect is disabled before login');
  assert.equal(await page.locator('#status').textContent(), 'Not connected');
  // Keyboard only: the labels lead to the fields, Enter submits.
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  if (shot !== undefined) await screenshot(page, shot);
  await page.getByLabel('Password').press('Enter');
  await page.locator('#status[data-state="open"]').waitFor({ timeout: 10_000 });
}

async function echo(page: Page, text: string): Promise<void> {
  await page.getByLabel('Text to echo').fill(text);
  await page.getByLabel('Text to echo').press('Enter');
  await page.locator('#echo-result', { hasText: `Echoed: ${text}` }).waitFor({ timeout: 5_000 });
}

describe('demo page in Chromium', { timeout: 90_000 }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let demo: BrowserContext;
  let alice: BrowserContext;
  let demoPage: Page;
  let alicePage: Page;
  const problems: string[] = [];

  before(async () => {
    ensureSdkBuilt();
    resetScreenshots();
    server = await startServer('node', { args: serverArgs });
    browser = await launch();
    demo = await browser.newContext({ viewport: LAPTOP });
    alice = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    demoPage = watchPage(await demo.newPage(), problems);
    alicePage = watchPage(await alice.newPage(), problems);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('logs in, connects with a ticket and echoes', async () => {
    await logIn(demoPage, server.origin, 'demo', 'demo', 'login-laptop');
    assert.equal(await demoPage.locator('#status').textContent(), 'Connected');
    assert.equal(await demoPage.locator('#sub-text').textContent(), 'demo');
    assert.equal(await demoPage.locator('#url-text').textContent(), server.wsUrl, 'ws: picked from the page’s http:');
    await screenshot(demoPage, 'connected-laptop');
    await echo(demoPage, 'hello, socket');
    const log = await demoPage.locator('#log').textContent();
    assert.match(log ?? '', /ticket received \(single use/);
    assert.doesNotMatch(log ?? '', /"ticket"/, 'the ticket is never shown');
    await screenshot(demoPage, 'echo-laptop');
  });

  it('two users chat over chat:lobby (text rendered as text)', async () => {
    await logIn(alicePage, server.origin, 'alice', 'alice-password');
    for (const page of [demoPage, alicePage])
      await page.locator('#log', { hasText: 'subscribed to chat:lobby' }).waitFor({ timeout: 5_000 });

    await demoPage.getByLabel('Chat message').fill('Hi Alice! <img src=x onerror=alert(1)>');
    await demoPage.getByLabel('Chat message').press('Enter');
    for (const page of [demoPage, alicePage]) {
      const message = page.locator('.chat-message', { hasText: 'Hi Alice!' });
      await message.waitFor({ timeout: 5_000 });
      assert.equal(await message.locator('.chat-from').textContent(), 'demo');
      assert.equal(await message.locator('img').count(), 0, 'markup from the network is shown as text');
    }
    await alicePage.getByLabel('Chat message').fill('Hello demo, welcome to the lobby');
    await alicePage.getByLabel('Chat message').press('Enter');
    const reply = demoPage.locator('.chat-message', { hasText: 'Hello demo, welcome to the lobby' });
    await reply.waitFor({ timeout: 5_000 });
    assert.equal(await reply.locator('.chat-from').textContent(), 'alice');
    // Alice's copy comes back through the broker too, possibly after demo's: wait for it to render.
    await alicePage.locator('.chat-message.mine', { hasText: 'Hello demo, welcome to the lobby' }).waitFor({ timeout: 5_000 });
    assert.equal(await alicePage.locator('.chat-message.mine').count(), 1, 'alice’s own message is marked as hers');
    await screenshot(demoPage, 'chat-laptop');
    // The phone shot is one screen, scrolled to the chat: what a person sees on the device.
    await alicePage.locator('#chat-title').scrollIntoViewIfNeeded();
    await alicePage.evaluate(() => window.scrollBy(0, document.querySelector('#chat-title')!.getBoundingClientRect().top - 260));
    await screenshot(alicePage, 'chat-phone', { fullPage: false });
  });

  it('Disconnect and Connect: the status follows, and no old text stays behind', async () => {
    await demoPage.getByRole('button', { name: 'Disconnect' }).click();
    await demoPage.locator('#status[data-state="idle"]', { hasText: 'Disconnected' }).waitFor({ timeout: 5_000 });
    assert.doesNotMatch(await demoPage.locator('main').innerText(), /\bConnected\b/, 'nothing still says Connected');
    assert.equal(await demoPage.locator('#close-info').getAttribute('data-tone'), 'ok');
    assert.match((await demoPage.locator('#close-info').textContent()) ?? '', /Closed with code 1000: normal closure \(by this page\)/);
    assert.equal(await demoPage.locator('#sub-text').textContent(), '—');
    assert.equal(await demoPage.locator('#connect').isEnabled(), true, 'still logged in: Connect is offered');
    await demoPage.getByRole('button', { name: 'Connect', exact: true }).click();
    await demoPage.locator('#status[data-state="open"]').waitFor({ timeout: 5_000 });
    assert.equal(await demoPage.locator('#close-info').isHidden(), true, 'the last close is gone once connected again');
    await echo(demoPage, 'back again');
  });

  it('after a reload with a valid session cookie the page shows the logged-in view and connects', async () => {
    await demoPage.reload();
    await demoPage.locator('#status[data-state="open"]').waitFor({ timeout: 10_000 });
    assert.equal(await demoPage.locator('#signed-in').isVisible(), true);
    assert.equal(await demoPage.locator('#whoami').textContent(), 'demo');
    assert.equal(await demoPage.locator('#login-form').isVisible(), false, 'no login form while logged in');
    assert.equal(await demoPage.locator('#sub-text').textContent(), 'demo');
    await echo(demoPage, 'after reload');
    await screenshot(demoPage, 'reloaded-laptop');
  });

  it('logging out is a normal end on this page; another tab of the same login sees 4409 and why', async () => {
    // A second tab of demo's login: it picks the session up from the cookie and connects too.
    const otherTab = watchPage(await demo.newPage(), problems);
    await otherTab.goto(`${server.origin}/client.html`);
    await otherTab.locator('#status[data-state="open"]').waitFor({ timeout: 10_000 });
    const errorsBefore = await demoPage.locator('#log li[data-kind="error"]').count();

    await demoPage.getByRole('button', { name: 'Log out' }).click();
    await demoPage.locator('#status', { hasText: 'Logged out' }).waitFor({ timeout: 5_000 });
    assert.equal(await demoPage.locator('#status').getAttribute('data-state'), 'idle', 'not the red closed state');
    assert.equal(await demoPage.locator('#login-status').textContent(), 'Logged out.');
    assert.equal(await demoPage.locator('#close-info').getAttribute('data-tone'), 'ok');
    assert.equal(await demoPage.locator('#log li[data-kind="error"]').count(), errorsBefore, 'no error lines for an own logout');
    assert.ok(await demoPage.locator('#login-form').isVisible(), 'the login form is back');
    assert.equal(await demoPage.locator('#connect').isDisabled(), true, 'logged out: Connect is disabled');
    assert.equal(await demoPage.locator('.chat-message').count(), 0, 'nothing of the chat stays on screen');

    const info = otherTab.locator('#close-info[data-code="4409"]');
    await info.waitFor({ timeout: 5_000 });
    assert.match((await info.textContent()) ?? '', /Closed with code 4409: session revoked/);
    await otherTab.locator('#status', { hasText: 'Logged out' }).waitFor({ timeout: 5_000 });
    assert.match((await otherTab.locator('#login-status').textContent()) ?? '', /You were logged out/);
    assert.match((await info.textContent()) ?? '', /refused \(401: logged out\), so the client stopped/);
    assert.ok(await otherTab.locator('#login-form').isVisible());
    await otherTab.close();

    // Alice is unaffected by demo's logout; a reload now finds no session.
    assert.equal(await alicePage.locator('#status').getAttribute('data-state'), 'open');
    await screenshot(demoPage, 'logged-out-laptop');
    await demoPage.reload();
    await demoPage.locator('#login-form').waitFor({ state: 'visible', timeout: 5_000 });
  });

  it('a page from another origin cannot get a ticket or open the socket with the victim’s cookies', async () => {
    const attacker: Attacker = await startAttacker(server.origin);
    try {
      // Alice is logged in (her cookie is in this context); she visits the attacker's page.
      const evil = await alice.newPage();
      await evil.goto(`${attacker.origin}/`);
      await evil.waitForFunction(() => (window as unknown as { result?: { done: boolean } }).result?.done === true, undefined, {
        timeout: 10_000,
      });
      const result = await evil.evaluate(() => (window as unknown as { result: Record<string, unknown> }).result);
      assert.equal(result.ticket, null, 'no usable ticket');
      assert.match(String(result.fetchError), /TypeError|Failed to fetch/, 'the ticket answer is unreadable cross-origin (no CORS)');
      assert.equal(result.wsOpened, false, 'the socket never opened');
      assert.equal(result.wsClose, 1006, 'the upgrade was refused (the browser reports 1006)');
      const refused = server.logs().find((l) => l.msg === 'upgrade.refused' && l.origin === attacker.origin);
      assert.ok(refused, 'the server refused the upgrade for the foreign Origin');
      assert.equal(refused.status, 403);
      assert.equal(refused.reason, 'origin_forbidden');
      await screenshot(evil, 'cross-site-refused', { fullPage: false });
      await evil.close();
      assert.equal(await alicePage.locator('#status').getAttribute('data-state'), 'open', 'alice’s own socket is fine');
    } finally {
      await attacker.stop();
    }
  });

  it('a full event log scrolls inside its box: no blank space grows below the footer', async () => {
    const gap = () =>
      alicePage.evaluate(
        () =>
          document.documentElement.scrollHeight - (document.querySelector('.site-footer')!.getBoundingClientRect().bottom + window.scrollY),
      );
    const before = await gap();
    // 300 more lines, each a copy of a real one (with its visually-hidden label).
    await alicePage.evaluate(() => {
      const log = document.getElementById('log')!;
      const line = log.lastElementChild!;
      for (let i = 0; i < 300; i++) log.append(line.cloneNode(true));
      log.scrollTop = log.scrollHeight;
    });
    const after = await gap();
    assert.ok(before < 40, `at most the footer's own margin below it (${before} px)`);
    assert.ok(after - before <= 1, `the space below the footer grew from ${before} to ${after} px`);
  });

  it('the page reported no errors (no CSP violation, no exception)', () => {
    assert.deepEqual(problems, []);
  });

  describe('over wss:// with the generated certificate', () => {
    let tlsServer: ServerProcess;
    let tlsBrowser: Browser;
    let trusted = false;

    before(async () => {
      const certs = testCerts();
      tlsServer = await startServer('node', { args: [...serverArgs, '--tls', '--cert', certs.cert, '--key', certs.key], tls: true });
      // The real trust path: the test CA in the NSS database of a throwaway $HOME.
      const home = trustingHome(path.join(certs.dir, 'ca.pem'));
      trusted = home !== null;
      tlsBrowser = await launch(home ? { home } : {});
    });
    after(async () => {
      await tlsBrowser?.close();
      await tlsServer?.stop();
    });

    it('logs in, connects over wss:// and echoes, with the CA trusted (no certificate errors ignored)', async (t) => {
      if (!trusted) t.diagnostic('certutil (libnss3-tools) missing: falling back to ignoreHTTPSErrors for this test only');
      const context = await tlsBrowser.newContext({ viewport: LAPTOP, ignoreHTTPSErrors: !trusted });
      const page = watchPage(await context.newPage(), problems);
      await logIn(page, tlsServer.origin, 'demo', 'demo');
      assert.match((await page.locator('#url-text').textContent()) ?? '', /^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
      await echo(page, 'over TLS');
      await screenshot(page, 'wss-laptop');
      await context.close();
      assert.ok(trusted, 'certutil must be installed so Chromium trusts the test CA (apt-get install libnss3-tools)');
      assert.deepEqual(problems, []);
    });
  });
});
