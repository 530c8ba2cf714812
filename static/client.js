// hardened-ws demo client. Loaded as an ES module (deferred): the DOM is parsed when this runs.
// Rules kept here: network text is rendered only through textContent (never as HTML), no inline styles,
// and the ticket is never displayed or logged.

/**
 * Close codes, mirroring src/core/close-codes.ts (plus the codes a browser reports itself and the
 * codes reserved for upcoming features). `retry` uses the server's retry classes; 'none' is a
 * normal closure.
 * @type {ReadonlyMap<number, {name: string, meaning: string, retry: RetryClass}>}
 */
const CLOSE_CODES = new Map([
  [1000, { name: 'normal closure', meaning: 'The connection was closed on purpose.', retry: 'none' }],
  [1001, { name: 'server going away', meaning: 'The server is shutting down or restarting.', retry: 'reconnect-with-backoff' }],
  [1002, { name: 'protocol error', meaning: 'A WebSocket framing rule was broken.', retry: 'reconnect-with-backoff' }],
  [1005, { name: 'no status code', meaning: 'The close frame carried no code.', retry: 'reconnect-with-backoff' }],
  [1006, { name: 'connection lost', meaning: 'The connection dropped without a close frame (network, proxy or refused upgrade).', retry: 'reconnect-with-backoff' }],
  [1007, { name: 'invalid payload', meaning: 'A text frame was not valid UTF-8.', retry: 'reconnect-with-backoff' }],
  [1008, { name: 'protocol misuse', meaning: 'The first frame was not a valid auth message, or too many messages were waiting.', retry: 'reconnect-with-backoff' }],
  [1009, { name: 'message too big', meaning: 'A message was over the size limit (4 KiB for the auth frame, 64 KiB after).', retry: 'reconnect-with-backoff' }],
  [1011, { name: 'internal error', meaning: 'The server hit an unexpected error.', retry: 'reconnect-with-backoff' }],
  [1013, { name: 'auth service unavailable', meaning: 'The ticket could not be checked right now. Try again later.', retry: 'reconnect-with-backoff' }],
  [4401, { name: 'ticket rejected', meaning: 'The ticket was invalid, expired, already used or issued for another origin.', retry: 'reconnect' }],
  [4408, { name: 'auth deadline passed', meaning: 'No auth message arrived in time after the socket opened.', retry: 'reconnect' }],
  [4409, { name: 'session revoked', meaning: 'The login session was ended (logout). Log in again to reconnect.', retry: 'reconnect' }],
  [4410, { name: 'session expired', meaning: 'The session reached its expiry time. Log in again to reconnect.', retry: 'reconnect' }],
  [4429, { name: 'rate limited', meaning: 'Too many connections or messages. Wait a moment before reconnecting.', retry: 'reconnect' }],
]);

/** @typedef {'none' | 'reconnect' | 'reconnect-with-backoff' | 'do-not-retry'} RetryClass */

/** @type {Record<RetryClass, string>} */
const RETRY_ADVICE = {
  none: 'No retry needed.',
  reconnect: 'Retry: reconnect with a fresh ticket (every attempt needs a new one).',
  'reconnect-with-backoff': 'Retry: transient — reconnect with exponential backoff and jitter.',
  'do-not-retry': 'Retry: do not retry; this closure is final.',
};

/** @param {number} code */
function describeClose(code) {
  const known = CLOSE_CODES.get(code);
  if (known) return known;
  if (code >= 4500 && code <= 4999) return { name: 'application close (final)', meaning: 'The server ended the session for good.', retry: /** @type {RetryClass} */ ('do-not-retry') };
  if (code >= 4000 && code <= 4499) return { name: 'application close', meaning: 'The server ended the session; a new ticket may succeed.', retry: /** @type {RetryClass} */ ('reconnect') };
  return { name: 'unknown code', meaning: 'A close code this page does not know.', retry: /** @type {RetryClass} */ ('reconnect-with-backoff') };
}

// ---------------------------------------------------------------------------------------------
// Elements

/** @param {string} id */
function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el;
}

const loginForm = /** @type {HTMLFormElement} */ ($('login-form'));
const usernameInput = /** @type {HTMLInputElement} */ ($('username'));
const passwordInput = /** @type {HTMLInputElement} */ ($('password'));
const loginStatus = $('login-status');
const connectBtn = /** @type {HTMLButtonElement} */ ($('connect'));
const disconnectBtn = /** @type {HTMLButtonElement} */ ($('disconnect'));
const logoutBtn = /** @type {HTMLButtonElement} */ ($('logout'));
const statusEl = $('status');
const closeInfo = $('close-info');
const echoForm = /** @type {HTMLFormElement} */ ($('echo-form'));
const echoInput = /** @type {HTMLInputElement} */ ($('echo-input'));
const echoSend = /** @type {HTMLButtonElement} */ ($('echo-send'));
const pingBtn = /** @type {HTMLButtonElement} */ ($('ping'));
const logList = $('log');
const clearLogBtn = document.getElementById('clear-log');

// ---------------------------------------------------------------------------------------------
// State: one function changes it, and it also updates every control.

/** @typedef {'disconnected' | 'ticket' | 'connecting' | 'authenticating' | 'connected' | 'closed'} Phase */

/** @type {Phase} */
let phase = 'disconnected';
/** @type {WebSocket | null} */
let socket = null;
/** Bumped on every connect so late answers from an abandoned attempt are ignored. */
let attempt = 0;
let closedByUs = false;
let nextId = 1;
/** @type {Map<string | number, number>} ping id → send time */
const pings = new Map();

/**
 * @param {Phase} next
 * @param {string} text shown after "Status: "
 */
function setPhase(next, text) {
  phase = next;
  statusEl.dataset.state = next;
  statusEl.textContent = `Status: ${text}`;
  const busy = next === 'ticket' || next === 'connecting' || next === 'authenticating';
  connectBtn.disabled = busy || next === 'connected';
  disconnectBtn.disabled = !(socket && (next === 'connecting' || next === 'authenticating' || next === 'connected'));
  const live = next === 'connected';
  echoInput.disabled = !live;
  echoSend.disabled = !live;
  pingBtn.disabled = !live;
}

/**
 * @param {'ok' | 'error' | 'idle'} state
 * @param {string} text
 */
function setLoginStatus(state, text) {
  loginStatus.dataset.state = state;
  loginStatus.textContent = text;
}

// ---------------------------------------------------------------------------------------------
// Log (text only)

const MAX_LOG_ENTRIES = 300;
const MAX_TEXT = 2000;

/** @param {string} text */
function clip(text) {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}… (${text.length} characters)` : text;
}

const DIR_LABEL = { in: '←', out: '→', info: '•', error: '!' };
const DIR_NAME = { in: 'received', out: 'sent', info: 'info', error: 'error' };

/**
 * @param {'in' | 'out' | 'info' | 'error'} kind
 * @param {string} text
 */
function log(kind, text) {
  const nearBottom = logList.scrollHeight - logList.scrollTop - logList.clientHeight < 40;
  const item = document.createElement('li');
  item.dataset.kind = kind;
  const time = document.createElement('time');
  const now = new Date();
  time.className = 'time';
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString();
  const dir = document.createElement('span');
  dir.className = 'dir';
  dir.textContent = DIR_LABEL[kind];
  dir.setAttribute('aria-hidden', 'true');
  const label = document.createElement('span');
  label.className = 'visually-hidden';
  label.textContent = `${DIR_NAME[kind]}: `;
  const body = document.createElement('span');
  body.className = 'text';
  body.append(label, clip(text));
  item.append(time, dir, body);
  logList.append(item);
  while (logList.childElementCount > MAX_LOG_ENTRIES) logList.firstElementChild?.remove();
  if (nearBottom) logList.scrollTop = logList.scrollHeight;
}

/** Any JSON value as short display text. @param {unknown} value */
function show(value) {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** @param {unknown} id */
function idText(id) {
  return id === undefined ? '' : ` #${show(id)}`;
}

// ---------------------------------------------------------------------------------------------
// HTTP

/**
 * @param {string} path
 * @param {unknown} body
 */
function postJson(path, body) {
  return fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
}

loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const username = usernameInput.value;
  const password = passwordInput.value;
  setLoginStatus('idle', 'Logging in…');
  try {
    const res = await postJson('/auth/login', { username, password });
    if (res.status === 204 || res.ok) {
      passwordInput.value = '';
      setLoginStatus('ok', `Logged in as ${username}.`);
      log('info', `logged in as ${username}`);
    } else if (res.status === 401) {
      setLoginStatus('error', 'Wrong username or password');
      passwordInput.select();
    } else {
      setLoginStatus('error', `Login failed (HTTP ${res.status}).`);
    }
  } catch {
    setLoginStatus('error', 'Login failed: the server could not be reached.');
  }
});

logoutBtn.addEventListener('click', async () => {
  try {
    const res = await postJson('/auth/logout', {});
    if (res.ok) {
      setLoginStatus('idle', 'Logged out.');
      if (phase === 'connected') {
        log('info', 'logged out; the server may now close this socket (4409 session revoked)');
      } else {
        log('info', 'logged out');
        if (phase === 'disconnected' || phase === 'closed') setPhase(phase, `${phase} (logged out)`);
      }
    } else {
      setLoginStatus('error', `Logout failed (HTTP ${res.status}).`);
    }
  } catch {
    setLoginStatus('error', 'Logout failed: the server could not be reached.');
  }
});

// ---------------------------------------------------------------------------------------------
// WebSocket

connectBtn.addEventListener('click', () => {
  void connect();
});

async function connect() {
  if (phase !== 'disconnected' && phase !== 'closed') return;
  const mine = ++attempt;
  closeInfo.hidden = true;
  closeInfo.replaceChildren();
  setPhase('ticket', 'getting ticket…');

  /** @type {string | null} */
  let ticket = null;
  try {
    const res = await postJson('/auth/ticket', {});
    if (mine !== attempt) return;
    if (res.status !== 201) {
      const why = res.status === 401 ? 'log in first' : `ticket request failed (HTTP ${res.status})`;
      log('error', `no ticket: ${why}`);
      setPhase('disconnected', `disconnected — ${why}`);
      return;
    }
    const body = await res.json();
    if (mine !== attempt) return;
    if (!body || typeof body.ticket !== 'string') {
      log('error', 'no ticket: unexpected response from /auth/ticket');
      setPhase('disconnected', 'disconnected — unexpected ticket response');
      return;
    }
    ticket = body.ticket;
    const ttl = typeof body.expiresIn === 'number' ? ` (valid for ${body.expiresIn} s)` : '';
    log('info', `ticket received${ttl}`);
  } catch {
    if (mine !== attempt) return;
    log('error', 'no ticket: the server could not be reached');
    setPhase('disconnected', 'disconnected — server unreachable');
    return;
  }

  const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
  closedByUs = false;
  /** @type {WebSocket} */
  let ws;
  try {
    ws = new WebSocket(url);
  } catch {
    log('error', 'could not open the WebSocket');
    setPhase('disconnected', 'disconnected — could not open the WebSocket');
    return;
  }
  ws.binaryType = 'arraybuffer';
  socket = ws;
  setPhase('connecting', 'connecting…');

  ws.addEventListener('open', () => {
    if (socket !== ws) return;
    setPhase('authenticating', 'authenticating…');
    // The auth message must be the first frame. The ticket is single use: drop it once sent.
    ws.send(JSON.stringify({ type: 'auth', ticket }));
    ticket = null;
    log('out', 'auth (ticket hidden)');
  });

  ws.addEventListener('message', (event) => {
    if (socket !== ws) return;
    onMessage(event.data);
  });

  ws.addEventListener('error', () => {
    if (socket !== ws) return;
    log('error', 'WebSocket error (details follow in the close event)');
  });

  ws.addEventListener('close', (event) => {
    if (socket !== ws) return;
    socket = null;
    ticket = null;
    pings.clear();
    const info = describeClose(event.code);
    setPhase('closed', `closed (${event.code} ${info.name})`);
    showCloseInfo(event, info);
    const reason = event.reason ? `, reason “${event.reason}”` : '';
    log('info', `closed: ${event.code} ${info.name}${reason}`);
  });
}

/** @param {unknown} data */
function onMessage(data) {
  if (typeof data !== 'string') {
    const size = data instanceof ArrayBuffer ? data.byteLength : 0;
    log('in', `binary frame (${size} bytes)`);
    return;
  }
  /** @type {unknown} */
  let parsed;
  try {
    parsed = JSON.parse(data);
  } catch {
    log('in', `non-JSON text: ${data}`);
    return;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    log('in', `unexpected frame: ${data}`);
    return;
  }
  const msg = /** @type {Record<string, unknown>} */ (parsed);
  switch (msg.type) {
    case 'auth.ok': {
      const sub = show(msg.sub);
      const until = formatExp(msg.exp);
      if (phase === 'authenticating') setPhase('connected', `connected as ${sub} (session until ${until})`);
      log('in', `auth.ok: ${sub}, session until ${until}`);
      echoInput.focus();
      break;
    }
    case 'echo':
      log('in', `echo${idText(msg.id)}: ${show(msg.data)}`);
      break;
    case 'pong': {
      const key = /** @type {string | number} */ (msg.id);
      const sent = pings.get(key);
      pings.delete(key);
      const rtt = sent === undefined ? '' : ` (${Math.round(performance.now() - sent)} ms)`;
      log('in', `pong${idText(msg.id)}${rtt}`);
      break;
    }
    case 'error':
      log('error', `error ${show(msg.code)}${msg.id === undefined ? '' : ` for${idText(msg.id)}`}`);
      break;
    default:
      log('in', `${show(msg.type)}: ${data}`);
  }
}

/** @param {unknown} exp epoch seconds */
function formatExp(exp) {
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'unknown';
  const date = new Date(exp * 1000);
  if (Number.isNaN(date.getTime())) return 'unknown';
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
}

/**
 * @param {CloseEvent} event
 * @param {{name: string, meaning: string, retry: RetryClass}} info
 */
function showCloseInfo(event, info) {
  const line = (/** @type {string} */ text, strong = false) => {
    const p = document.createElement('p');
    if (strong) {
      const s = document.createElement('strong');
      s.textContent = text;
      p.append(s);
    } else p.textContent = text;
    return p;
  };
  closeInfo.replaceChildren(
    line(`Closed with code ${event.code}: ${info.name}${closedByUs ? ' (by this page)' : ''}`, true),
    line(info.meaning),
    line(event.reason ? `Reason: “${event.reason}”` : 'No reason text was sent.'),
    line(RETRY_ADVICE[info.retry]),
  );
  closeInfo.dataset.retry = info.retry;
  closeInfo.hidden = false;
}

disconnectBtn.addEventListener('click', () => {
  if (!socket) return;
  closedByUs = true;
  // Still waiting for the handshake? close() aborts it; the close event reports 1006 then.
  socket.close(1000, 'client disconnect');
});

// ---------------------------------------------------------------------------------------------
// Messages after auth.ok

/** @param {Record<string, unknown>} message */
function send(message) {
  if (!socket || socket.readyState !== WebSocket.OPEN || phase !== 'connected') {
    log('error', 'not connected');
    return false;
  }
  socket.send(JSON.stringify(message));
  return true;
}

echoForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const id = nextId++;
  const data = echoInput.value;
  if (send({ type: 'echo', id, data })) {
    log('out', `echo #${id}: ${data}`);
    echoInput.value = '';
    echoInput.focus();
  }
});

pingBtn.addEventListener('click', () => {
  const id = nextId++;
  if (send({ type: 'ping', id })) {
    pings.set(id, performance.now());
    log('out', `ping #${id}`);
  }
});

clearLogBtn?.addEventListener('click', () => logList.replaceChildren());

setPhase('disconnected', 'disconnected');
