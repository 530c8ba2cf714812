// hardened-ws demo client, built on the client SDK (/sdk.js, generated from src/client/).
// Rules kept here: network text is rendered only through textContent (never as HTML), no inline
// styles (the CSP forbids them), and the ticket is never displayed or logged.
import { connect, describeCloseCode, knownCloseCodes } from '/sdk.js';

const CHANNEL = 'chat:lobby';

/** @param {string} id */
function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el;
}

const el = {
  loginForm: /** @type {HTMLFormElement} */ ($('login-form')),
  username: /** @type {HTMLInputElement} */ ($('username')),
  password: /** @type {HTMLInputElement} */ ($('password')),
  loginBtn: /** @type {HTMLButtonElement} */ ($('login')),
  loginStatus: $('login-status'),
  signedIn: $('signed-in'),
  whoami: $('whoami'),
  logout: /** @type {HTMLButtonElement} */ ($('logout')),
  status: $('status'),
  stateText: $('state-text'),
  subText: $('sub-text'),
  expText: $('exp-text'),
  urlText: $('url-text'),
  connect: /** @type {HTMLButtonElement} */ ($('connect')),
  disconnect: /** @type {HTMLButtonElement} */ ($('disconnect')),
  closeInfo: $('close-info'),
  echoForm: /** @type {HTMLFormElement} */ ($('echo-form')),
  echoInput: /** @type {HTMLInputElement} */ ($('echo-input')),
  echoSend: /** @type {HTMLButtonElement} */ ($('echo-send')),
  ping: /** @type {HTMLButtonElement} */ ($('ping')),
  echoResult: $('echo-result'),
  chatList: $('chat-list'),
  chatStatus: $('chat-status'),
  chatForm: /** @type {HTMLFormElement} */ ($('chat-form')),
  chatInput: /** @type {HTMLInputElement} */ ($('chat-input')),
  chatSend: /** @type {HTMLButtonElement} */ ($('chat-send')),
  log: $('log'),
  clearLog: $('clear-log'),
  codesBody: $('close-codes-body'),
};

// ws: or wss: from the page's own protocol; the socket lives on the page's own origin.
const WS_URL = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
el.urlText.textContent = WS_URL;

/** @type {import('/sdk.js').Client | null} */
let client = null;

const STATE_TEXT = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  authenticating: 'Authenticating…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Closed',
};

const RETRY_ADVICE = {
  reconnect: 'The client reconnects at once with a fresh ticket.',
  'reconnect-with-backoff': 'The client reconnects after a randomised, growing delay.',
  'do-not-retry': 'Final: the client does not reconnect.',
};

// ---- log (text only) ---------------------------------------------------------------------------

const MAX_LOG = 300;
const MAX_TEXT = 2000;
const KIND_MARK = { in: '←', out: '→', info: '•', error: '!' };
const KIND_NAME = { in: 'received', out: 'sent', info: 'info', error: 'error' };

/** @param {string} text */
const clip = (text) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}… (${text.length} characters)` : text);

/** Any JSON value as short display text. @param {unknown} value */
function show(value) {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * @param {'in' | 'out' | 'info' | 'error'} kind
 * @param {string} text
 */
function log(kind, text) {
  const nearBottom = el.log.scrollHeight - el.log.scrollTop - el.log.clientHeight < 40;
  const item = document.createElement('li');
  item.dataset.kind = kind;
  const time = document.createElement('time');
  const now = new Date();
  time.className = 'time';
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString();
  const mark = document.createElement('span');
  mark.className = 'dir';
  mark.textContent = KIND_MARK[kind];
  mark.setAttribute('aria-hidden', 'true');
  const label = document.createElement('span');
  label.className = 'visually-hidden';
  label.textContent = `${KIND_NAME[kind]}: `;
  const body = document.createElement('span');
  body.className = 'text';
  body.append(label, clip(text));
  item.append(time, mark, body);
  el.log.append(item);
  while (el.log.childElementCount > MAX_LOG) el.log.firstElementChild?.remove();
  if (nearBottom) el.log.scrollTop = el.log.scrollHeight;
}

el.clearLog.addEventListener('click', () => el.log.replaceChildren());

// ---- view state: one function updates every control from the client's state ----------------------

/** @param {string} state  an SDK state, or 'idle' when there is no client */
function render(state) {
  el.status.dataset.state = state;
  el.status.textContent = STATE_TEXT[state] ?? state;
  el.stateText.textContent = state === 'idle' ? '—' : state;
  const live = state === 'open';
  const active = client !== null && state !== 'closed';
  el.connect.disabled = active;
  el.disconnect.disabled = !active;
  for (const control of [el.echoInput, el.echoSend, el.ping, el.chatInput, el.chatSend]) control.disabled = !live;
  el.subText.textContent = client?.sub ?? '—';
  el.expText.textContent = formatExp(client?.exp ?? null);
  el.chatStatus.textContent = live ? `You are ${client?.sub ?? '?'} in ${CHANNEL}.` : 'Connect to join.';
}

/** @param {boolean} signedIn @param {string} [who] */
function renderAccount(signedIn, who) {
  el.loginForm.hidden = signedIn;
  el.signedIn.hidden = !signedIn;
  el.whoami.textContent = who ?? '';
}

/**
 * @param {'ok' | 'error' | 'idle'} state
 * @param {string} text
 */
function setLoginStatus(state, text) {
  el.loginStatus.dataset.state = state;
  el.loginStatus.textContent = text;
}

/** @param {number | null} exp epoch seconds */
function formatExp(exp) {
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return '—';
  const date = new Date(exp * 1000);
  return date.toDateString() === new Date().toDateString() ? date.toLocaleTimeString() : date.toLocaleString();
}

/** @param {import('/sdk.js').CloseDetails & { reconnectInMs: number | null }} details */
function showCloseInfo(details) {
  const { name } = describeCloseCode(details.code);
  const line = (/** @type {string} */ text, className = '') => {
    const p = document.createElement('p');
    if (className) p.className = className;
    p.textContent = text;
    return p;
  };
  const by = details.byClient ? ' (by this page)' : '';
  const next =
    details.reconnectInMs === null
      ? details.byClient ? 'No reconnect: this page closed it.' : RETRY_ADVICE['do-not-retry']
      : `${RETRY_ADVICE[details.retry] ?? ''} Next attempt in ${Math.round(details.reconnectInMs)} ms${details.retryAfterMs !== undefined ? ' (the server’s hint)' : ''}.`;
  el.closeInfo.replaceChildren(
    line(`Closed with code ${details.code}: ${name}${by}`, 'close-title'),
    line(details.meaning),
    line(next, 'note'),
  );
  el.closeInfo.dataset.retry = details.byClient ? 'none' : details.retry;
  el.closeInfo.dataset.code = String(details.code);
  el.closeInfo.hidden = false;
}

// ---- the close-code table, from the SDK (which takes it from the server's own table) -------------

for (const info of knownCloseCodes()) {
  const row = document.createElement('tr');
  const advice = info.code === 1000 ? 'No retry needed.' : RETRY_ADVICE[info.retry];
  for (const text of [String(info.code), info.name, info.meaning, advice]) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  el.codesBody.append(row);
}

// ---- auth service calls ----------------------------------------------------------------------------

/** POST with a JSON body on the page's own origin (the session cookie goes along). */
function post(/** @type {string} */ path, /** @type {unknown} */ body) {
  return fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
}

/** The SDK calls this before every connection attempt and refresh: a new ticket each time. */
async function getTicket() {
  const res = await post('/auth/ticket', {});
  if (!res.ok) {
    // status 401 tells the SDK the user is logged out, so it stops reconnecting.
    const error = new Error(`ticket request failed (HTTP ${res.status})`);
    const retryAfter = Number(res.headers.get('retry-after'));
    throw Object.assign(error, { status: res.status, ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) });
  }
  const body = await res.json();
  if (typeof body?.ticket !== 'string') throw new Error('unexpected response from /auth/ticket');
  log('info', `ticket received (single use, valid ${show(body.expiresIn)} s; not shown)`);
  return body.ticket;
}

el.loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  el.loginBtn.disabled = true;
  setLoginStatus('idle', 'Logging in…');
  try {
    const res = await post('/auth/login', { username: el.username.value, password: el.password.value });
    if (res.status === 204) {
      const who = el.username.value;
      el.password.value = '';
      setLoginStatus('ok', 'Logged in. Connecting with a fresh ticket…');
      renderAccount(true, who);
      log('info', `logged in as ${who}`);
      startClient();
    } else if (res.status === 429) {
      setLoginStatus('error', 'Too many attempts. Wait a moment and try again.');
    } else {
      setLoginStatus('error', 'Wrong username or password.');
      el.password.select();
    }
  } catch {
    setLoginStatus('error', 'The server could not be reached.');
  } finally {
    el.loginBtn.disabled = false;
  }
});

el.logout.addEventListener('click', async () => {
  // No client.close() here on purpose: the server itself closes the socket with 4409 when the
  // session ends, and the page shows that code; the SDK then gets a 401 for its next ticket and stops.
  try {
    await post('/auth/logout', {});
  } catch {
    // Logout is local too: the page forgets the user either way.
  }
  renderAccount(false);
  setLoginStatus('idle', 'Logged out.');
  log('info', 'logged out');
  if (!client) el.username.focus();
});

// ---- the client ------------------------------------------------------------------------------------

function startClient() {
  client?.close();
  const mine = connect({
    url: WS_URL,
    getTicket,
    onStateChange: (state) => {
      if (client !== mine) return;
      log('info', `state: ${state}`);
      render(state);
    },
  });
  client = mine;
  render(mine.state);
  log('info', `connecting to ${WS_URL}`);

  mine.on('open', ({ sub }) => {
    log('in', `auth.ok: authenticated as ${sub}`);
    setLoginStatus('ok', 'Connected.');
    render(mine.state);
    if (document.activeElement === document.body || document.activeElement === el.loginBtn) el.echoInput.focus();
  });
  mine.on('close', (details) => {
    if (client !== mine) return;
    log(details.byClient ? 'info' : 'error', `closed: ${details.code} ${describeCloseCode(details.code).name}${details.reason ? ` (“${details.reason}”)` : ''}`);
    showCloseInfo(details);
  });
  mine.on('error', ({ error }) => {
    if (client !== mine) return;
    const code = /** @type {{ code?: string }} */ (error).code;
    if (code === 'logged_out') {
      renderAccount(false);
      setLoginStatus('idle', 'Logged out: log in again to reconnect.');
      // The close that led here stays on screen; say why the promised reconnect did not happen.
      const stopped = document.createElement('p');
      stopped.className = 'note';
      stopped.textContent = 'The next ticket request was refused (401: logged out), so the client stopped.';
      el.closeInfo.append(stopped);
      el.closeInfo.dataset.retry = 'do-not-retry';
    }
    log('error', error.message);
  });
  mine.on('session', ({ kind, exp }) => {
    log('info', kind === 'expiring' ? 'the session ends soon: refreshing with a new ticket' : `session refreshed until ${formatExp(exp)}`);
    render(mine.state);
  });
  mine.on('message', (message) => log('in', `${show(message.type)}: ${show(message)}`));

  // Subscribed once: the SDK subscribes again by itself after every reconnect.
  mine.subscribe(CHANNEL, onChat).then(
    () => log('info', `subscribed to ${CHANNEL}`),
    (error) => log('error', `could not join ${CHANNEL}: ${error.serverCode ?? error.message}`),
  );
}

el.connect.addEventListener('click', () => startClient());
el.disconnect.addEventListener('click', () => client?.close(1000, 'client disconnect'));

// ---- echo and ping -------------------------------------------------------------------------------

el.echoForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!client) return;
  const data = el.echoInput.value;
  el.echoInput.value = '';
  log('out', `echo: ${data}`);
  try {
    const reply = await client.request({ type: 'echo', data });
    el.echoResult.textContent = `Echoed: ${show(reply.data)}`;
    log('in', `echo: ${show(reply.data)}`);
  } catch (error) {
    el.echoResult.textContent = 'No echo.';
    log('error', `echo failed: ${/** @type {Error} */ (error).message}`);
  }
  el.echoInput.focus();
});

el.ping.addEventListener('click', async () => {
  if (!client) return;
  const started = performance.now();
  log('out', 'ping');
  try {
    await client.request({ type: 'ping' });
    const ms = Math.round(performance.now() - started);
    el.echoResult.textContent = `Pong in ${ms} ms`;
    log('in', `pong (${ms} ms)`);
  } catch (error) {
    log('error', `ping failed: ${/** @type {Error} */ (error).message}`);
  }
});

// ---- chat ----------------------------------------------------------------------------------------

const MAX_CHAT = 200;

/** @param {unknown} data @param {{ from: string }} delivery */
function onChat(data, { from }) {
  const text = typeof data === 'object' && data !== null && typeof (/** @type {{text?: unknown}} */ (data).text) === 'string' ? /** @type {{text: string}} */ (data).text : show(data);
  $('chat-empty').hidden = true;
  const item = document.createElement('li');
  item.className = 'chat-message';
  if (client && from === client.sub) item.classList.add('mine');
  const who = document.createElement('span');
  who.className = 'chat-from';
  who.textContent = from;
  const time = document.createElement('time');
  time.className = 'chat-time';
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const body = document.createElement('p');
  body.className = 'chat-text';
  body.textContent = clip(text);
  const meta = document.createElement('div');
  meta.className = 'chat-meta';
  meta.append(who, time);
  item.append(meta, body);
  el.chatList.append(item);
  while (el.chatList.childElementCount > MAX_CHAT + 1) el.chatList.querySelector('.chat-message')?.remove();
  el.chatList.scrollTop = el.chatList.scrollHeight;
}

el.chatForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = el.chatInput.value.trim();
  if (!client || text === '') return;
  el.chatInput.value = '';
  try {
    await client.publish(CHANNEL, { text });
  } catch (error) {
    el.chatInput.value = text;
    log('error', `message not sent: ${/** @type {{serverCode?: string, message: string}} */ (error).serverCode ?? /** @type {Error} */ (error).message}`);
  }
  el.chatInput.focus();
});

render('idle');
