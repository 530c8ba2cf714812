// hardened-ws demo client, built on the client SDK (/sdk.js, generated from src/client/).
// Rules kept here: network text is rendered only through textContent (never as HTML), no inline
// styles (the CSP forbids them), and the ticket is never displayed or logged.
import { connect, describeCloseCode, fetchTicket, knownCloseCodes } from '/sdk.js';

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
  demoHint: $('demo-hint'),
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
  chatEmpty: $('chat-empty'),
  chatStatus: $('chat-status'),
  chatHere: $('chat-here'),
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

/** The status pill's text while the client runs; once closed, statusOf() says why. */
const STATE_TEXT = {
  connecting: 'Connecting…',
  authenticating: 'Authenticating…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
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

// ---- what the page knows -----------------------------------------------------------------------

/** The login as this page knows it: 'checking' (asking /auth/session), 'out', or 'in' as `sub`. */
let account = { state: 'checking', sub: '' };
/** @type {import('/sdk.js').Client | null} */
let client = null;
/** Set when this page closed the client itself ('disconnect' or 'logout'): that end is a normal one. */
let closedByPage = /** @type {'disconnect' | 'logout' | null} */ (null);
/** True once a refresh found the session cannot be extended past its exp. */
let sessionFinal = false;

// ---- view: one function sets every control from what the page knows --------------------------------

/** The status pill: its data-state and text, from the client's state and, once closed, why. */
function statusOf() {
  if (client === null) return ['idle', 'Not connected'];
  const state = client.state;
  if (state !== 'closed') return [state, STATE_TEXT[state]];
  if (closedByPage === 'logout') return ['idle', 'Logged out'];
  if (closedByPage === 'disconnect') return ['idle', 'Disconnected'];
  switch (client.closedBecause?.code) {
    case 'session_expired':
      return ['expired', 'Session expired'];
    case 'logged_out':
      return ['idle', 'Logged out'];
    case 'ticket_refused':
      return ['closed', 'Refused'];
    default:
      return ['closed', 'Closed'];
  }
}

function render() {
  const [state, text] = statusOf();
  el.status.dataset.state = state;
  el.status.textContent = text;
  const active = client !== null && client.state !== 'closed';
  const live = client?.state === 'open';
  el.stateText.textContent = client?.state ?? '—';
  el.connect.disabled = account.state !== 'in' || active;
  el.disconnect.disabled = !active;
  for (const control of [el.echoInput, el.echoSend, el.ping, el.chatInput, el.chatSend]) control.disabled = !live;
  if (!live) el.echoResult.textContent = ''; // an echo from a connection that has ended is old news
  el.loginForm.hidden = account.state !== 'out';
  el.demoHint.hidden = account.state !== 'out';
  el.signedIn.hidden = account.state !== 'in';
  el.whoami.textContent = account.sub;
  el.subText.textContent = active ? (client?.sub ?? '—') : '—';
  el.expText.textContent = active ? `${formatExp(client?.exp ?? null)}${sessionFinal ? ' (final)' : ''}` : '—';
  el.chatStatus.textContent = live ? `You are ${client?.sub ?? '?'} in ${CHANNEL}.` : 'Connect to join.';
  renderHere();
}

/**
 * @param {'ok' | 'error' | 'warn' | 'idle'} state
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

/** @param {string} text @param {string} [className] */
function para(text, className = '') {
  const p = document.createElement('p');
  if (className) p.className = className;
  p.textContent = text;
  return p;
}

/**
 * The connection card's notice: how the last connection ended, or why none could start.
 * @param {'ok' | 'warn' | 'bad'} tone  ok: a normal end; warn: it ends or retries; bad: a failure
 * @param {string} title
 * @param {string[]} lines
 */
function showNotice(tone, title, ...lines) {
  el.closeInfo.replaceChildren(para(title, 'close-title'), ...lines.filter(Boolean).map((line) => para(line)));
  el.closeInfo.dataset.tone = tone;
  delete el.closeInfo.dataset.code;
  el.closeInfo.hidden = false;
}

function hideNotice() {
  el.closeInfo.hidden = true;
  el.closeInfo.replaceChildren();
  delete el.closeInfo.dataset.code;
}

/** @param {import('/sdk.js').CloseDetails & { reconnectInMs: number | null }} details */
function showClose(details) {
  const { name } = describeCloseCode(details.code);
  const next = details.byClient
    ? closedByPage === 'logout'
      ? 'You logged out; this page closed its connection first.'
      : 'No reconnect: this page closed it.'
    : details.reconnectInMs === null
      ? details.code === 4410
        ? ''
        : 'The client stopped: it does not reconnect.' // 4410: explainStop says why
      : `${RETRY_ADVICE[details.retry] ?? ''} Next attempt in ${Math.round(details.reconnectInMs)} ms${details.retryAfterMs !== undefined ? ' (the server’s hint)' : ''}.`;
  const tone = details.byClient ? 'ok' : details.reconnectInMs !== null || details.code === 4410 ? 'warn' : 'bad';
  showNotice(tone, `Closed with code ${details.code}: ${name}${details.byClient ? ' (by this page)' : ''}`, details.meaning, next);
  el.closeInfo.dataset.code = String(details.code);
}

/** The client stopped by itself: say why, in the notice and the account card, and what to do next. */
function explainStop(/** @type {import('/sdk.js').Client} */ stopped) {
  const because = stopped.closedBecause;
  if (closedByPage !== null || because === null) return;
  if (because.code === 'session_expired') {
    account = { state: 'out', sub: account.sub };
    el.username.value = account.sub;
    setLoginStatus('warn', 'Your session expired. Log in again to continue.');
    if (el.closeInfo.hidden) showNotice('warn', 'Session expired');
    el.closeInfo.append(
      para('The login session has ended, so the client stopped instead of reconnecting with tickets that would be refused.', 'note'),
    );
  } else if (because.code === 'logged_out') {
    account = { state: 'out', sub: account.sub };
    setLoginStatus('idle', 'You were logged out (in another tab, or the session was ended). Log in again to continue.');
    if (el.closeInfo.hidden) showNotice('warn', 'Logged out');
    el.closeInfo.append(para('The next ticket request was refused (401: logged out), so the client stopped.', 'note'));
  } else if (because.code === 'ticket_refused') {
    showNotice(
      'bad',
      'Could not connect: no ticket for this page',
      refusalText(because.serverCode),
      'The client stopped instead of asking again.',
    );
  }
}

/** Why the auth service answered 403. @param {string | undefined} code its error code */
function refusalText(code) {
  if (code === 'origin_not_allowed') {
    return `This page’s origin (${location.origin}) is not allowed to open the WebSocket on this server, so the server refuses it logins and tickets (403 origin_not_allowed). The server’s operator can allow it with --allowed-origins.`;
  }
  return `The server refused the request (403${code ? ` ${code}` : ''}).`;
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
  // fetchTicket throws a TicketError on 401 (the SDK stops: logged out) and 403 (stops: refused).
  const grant = await fetchTicket('/auth/ticket');
  const until = grant.sessionExp !== undefined ? `; session until ${formatExp(grant.sessionExp)}` : '';
  log('info', `ticket received (single use, valid ${show(grant.expiresIn)} s; not shown)${until}`);
  return grant;
}

/** @param {string} sub @param {string} text */
function signedIn(sub, text) {
  if (sub !== account.sub) forgetChat(); // another person's chat starts afresh
  account = { state: 'in', sub };
  setLoginStatus('ok', text);
  log('info', `logged in as ${sub}`);
  startClient();
}

/** After a reload: a live session cookie means the person is still logged in. */
async function restoreSession() {
  try {
    const res = await fetch('/auth/session', { credentials: 'same-origin', signal: window.AbortSignal.timeout(5_000) });
    const body = res.ok ? await res.json() : null;
    if (typeof body?.sub === 'string') return signedIn(body.sub, 'Still logged in (the session cookie is valid).');
  } catch {
    // No answer: the person can log in by hand.
  }
  account = { state: 'out', sub: '' };
  setLoginStatus('idle', '');
  render();
}

el.loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  el.loginBtn.disabled = true;
  setLoginStatus('idle', 'Logging in…');
  try {
    const res = await post('/auth/login', { username: el.username.value, password: el.password.value });
    if (res.status === 204) {
      el.password.value = '';
      signedIn(el.username.value, 'Logged in.');
    } else if (res.status === 429) {
      setLoginStatus('error', 'Too many attempts. Wait a moment and try again.');
    } else if (res.status === 403) {
      const code = (await res.json().catch(() => null))?.error;
      setLoginStatus('error', refusalText(typeof code === 'string' ? code : undefined));
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
  // The page closes its own connection first, so logging out reads as the normal end it is; the
  // server would otherwise close it with 4409 (and does so for this login's other tabs).
  if (client !== null && client.state !== 'closed') {
    closedByPage = 'logout';
    client.close(1000, 'logged out');
  }
  el.logout.disabled = true;
  try {
    await post('/auth/logout', {});
  } catch {
    // Logout is local too: the page forgets the user either way.
  } finally {
    el.logout.disabled = false;
  }
  account = { state: 'out', sub: account.sub };
  forgetChat(); // nothing of this person's chat stays on screen
  setLoginStatus('ok', 'Logged out.');
  log('info', 'logged out');
  render();
  el.username.focus();
});

// ---- the client ------------------------------------------------------------------------------------

/** Codes that end the client: its pending subscribe then fails with them, which is no news. */
const ENDINGS = new Set(['closed', 'logged_out', 'session_expired', 'ticket_refused']);

function startClient() {
  const previous = client;
  client = null; // its last events are no longer this page's concern
  previous?.close();
  closedByPage = null;
  sessionFinal = false;
  hideNotice();
  const mine = connect({
    url: WS_URL,
    getTicket,
    onStateChange: (state) => {
      if (client !== mine) return;
      log('info', `state: ${state}`);
      if (state === 'closed') explainStop(mine);
      render();
    },
  });
  client = mine;
  render();
  log('info', `connecting to ${WS_URL}`);

  mine.on('open', ({ sub }) => {
    if (client !== mine) return;
    log('in', `auth.ok: authenticated as ${sub}`);
    hideNotice(); // the last close is history now
    render();
    if (document.activeElement === document.body || document.activeElement === el.loginBtn) el.echoInput.focus();
  });
  mine.on('close', (details) => {
    if (client !== mine) return;
    const unexpected = !details.byClient && details.reconnectInMs === null && details.code !== 4410;
    log(
      unexpected ? 'error' : 'info',
      `closed: ${details.code} ${describeCloseCode(details.code).name}${details.reason ? ` (“${details.reason}”)` : ''}`,
    );
    showClose(details);
  });
  mine.on('error', ({ error }) => {
    if (client !== mine) return;
    log(/** @type {{ code?: string }} */ (error).code === 'logged_out' ? 'info' : 'error', error.message);
  });
  mine.on('session', ({ kind, exp }) => {
    if (client !== mine) return;
    if (kind === 'final') sessionFinal = true;
    log('info', SESSION_TEXT[kind](formatExp(exp)));
    render();
  });
  mine.on('message', (message) => log('in', `${show(message.type)}: ${show(message)}`));

  joinChat(mine);
}

/** @type {Record<string, (until: string) => string>} */
const SESSION_TEXT = {
  expiring: (until) => `the session ends at ${until}: refreshing if a new ticket extends it`,
  refreshed: (until) => `session refreshed: now until ${until}`,
  final: (until) => `the session cannot be extended past ${until} (its maximum age); it ends then`,
  expired: (until) => `the session expired (it ended at ${until})`,
};

el.connect.addEventListener('click', () => startClient());
el.disconnect.addEventListener('click', () => {
  if (client === null || client.state === 'closed') return;
  closedByPage = 'disconnect';
  client.close(1000, 'client disconnect');
});

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

// ---- chat: messages in order, what was missed while away, who is here ------------------------------

const MAX_CHAT = 200;
/** Messages loaded from history on joining and after a resync. */
const RECENT = 20;

/**
 * Where the chat list has got to in the channel's stream. It outlives this page's clients, so
 * Connect after Disconnect resumes from it (`subscribe({since})`) and shows what was missed.
 * @type {import('/sdk.js').StreamPosition | null}
 */
let chatPosition = null;
/** Messages on screen, by `epoch:offset`: a history page and a live delivery can overlap at the seam. */
let shown = new Set();
/** Who is subscribed: connection id → sub. */
let here = new Map();

/** @type {Record<string, string>} */
const RESYNC_TEXT = {
  stream_reset: 'the server lost the messages it kept',
  history_exhausted: 'more was sent while you were away than the server keeps',
  recovery_disabled: 'this channel does not replay missed messages',
  gap_too_large: 'too many to fetch',
  gap_fill_failed: 'they could not be fetched',
};

/** Subscribes the client to the lobby and shows it; the SDK resubscribes by itself after every reconnect. */
function joinChat(/** @type {import('/sdk.js').Client} */ mine) {
  const lobby = mine.channel(CHANNEL);
  here = new Map();
  /** Messages delivered as missed since the last confirmation. */
  let missed = 0;
  lobby.on('message', (m) => {
    if (client !== mine) return;
    if (m.recovered) missed++;
    addMessage(m);
    chatPosition = lobby.position;
  });
  lobby.on('subscribed', ({ wasRecovering, recovered, position }) => {
    if (client !== mine) return;
    chatPosition = lobby.position;
    void refreshPresence(lobby);
    if (!wasRecovering) void loadRecent(lobby, el.chatEmpty, position);
    else if (recovered) {
      const text =
        missed === 0
          ? 'Back online: nothing was missed.'
          : `Back online: ${missed} message${missed === 1 ? '' : 's'} sent while you were away (marked “missed”).`;
      chatLine(text, 'note', 'ok');
      log('info', `${CHANNEL}: recovered ${missed} missed message${missed === 1 ? '' : 's'}`);
    }
    missed = 0;
  });
  lobby.on('resync', ({ reason }) => {
    if (client !== mine) return;
    clearChat();
    const note = chatLine(`Some messages may be missing (${RESYNC_TEXT[reason] ?? reason}); reloaded the latest.`, 'note', 'warn');
    log('info', `${CHANNEL}: resync (${reason}): reloading the latest messages`);
    void loadRecent(lobby, note, null);
  });
  lobby.on('join', ({ sub, conn }) => {
    if (client !== mine) return;
    log('in', `join: ${sub} (connection ${conn})`);
    const isNew = ![...here.values()].includes(sub);
    here.set(conn, sub);
    renderHere();
    if (isNew) chatLine(`${sub} joined`, 'event');
  });
  lobby.on('leave', ({ sub, conn }) => {
    if (client !== mine) return;
    log('in', `leave: ${sub} (connection ${conn})`);
    here.delete(conn);
    renderHere();
    if (![...here.values()].includes(sub)) chatLine(`${sub} left`, 'event');
  });

  const since = chatPosition;
  lobby.subscribe(since ? { since } : {}).then(
    () => log('info', `subscribed to ${CHANNEL}${since ? ` (resuming after message ${since.offset})` : ''}`),
    (error) => ENDINGS.has(error.code) || log('error', `could not join ${CHANNEL}: ${error.serverCode ?? error.message}`),
  );
}

/** Who is here, from presence(); join and leave keep it current between calls. */
async function refreshPresence(/** @type {import('/sdk.js').Subscription} */ lobby) {
  try {
    const { clients } = await lobby.presence();
    here = new Map(clients.map((c) => [c.conn, c.sub]));
  } catch (error) {
    log(
      'error',
      `presence failed: ${/** @type {{serverCode?: string, message: string}} */ (error).serverCode ?? /** @type {Error} */ (error).message}`,
    );
  }
  renderHere();
}

function renderHere() {
  const subs = client?.state === 'open' ? [...new Set(here.values())].sort() : [];
  el.chatHere.textContent = subs.length === 0 ? '—' : subs.map((sub) => (sub === client?.sub ? `${sub} (you)` : sub)).join(', ');
}

/**
 * The latest messages from history, placed after `anchor` (above anything delivered live
 * meanwhile). `position`: where the stream is, when known; else the first page's answer says.
 * @param {import('/sdk.js').Subscription} lobby
 * @param {Element} anchor
 * @param {import('/sdk.js').StreamPosition | null} position
 */
async function loadRecent(lobby, anchor, position) {
  try {
    const top = position ?? (await lobby.history({ limit: 1 })).position;
    if (top.offset === 0) return;
    let page = await lobby.history({ since: { offset: Math.max(0, top.offset - RECENT), epoch: top.epoch }, limit: RECENT });
    if (!page.complete) page = await lobby.history({ limit: RECENT }); // fewer kept: all of them
    const items = page.publications.map((p) => messageItem({ ...p, channel: CHANNEL, recovered: false })).filter((item) => item !== null);
    anchor.after(...items);
    el.chatEmpty.hidden = el.chatList.childElementCount > 1;
    trimChat();
    el.chatList.scrollTop = el.chatList.scrollHeight;
  } catch (error) {
    log(
      'error',
      `history failed: ${/** @type {{serverCode?: string, message: string}} */ (error).serverCode ?? /** @type {Error} */ (error).message}`,
    );
  }
}

/** @param {unknown} data */
function chatText(data) {
  return typeof data === 'object' && data !== null && typeof (/** @type {{text?: unknown}} */ (data).text) === 'string'
    ? /** @type {{text: string}} */ (data).text
    : show(data);
}

/** A message's list item, or null when it is already on screen. @param {import('/sdk.js').Publication} m */
function messageItem(m) {
  if (m.offset !== undefined) {
    const key = `${m.epoch}:${m.offset}`;
    if (shown.has(key)) return null;
    shown.add(key);
  }
  const item = document.createElement('li');
  item.className = 'chat-message';
  if (client && m.from === client.sub) item.classList.add('mine');
  const who = document.createElement('span');
  who.className = 'chat-from';
  who.textContent = m.from;
  const time = document.createElement('time');
  time.className = 'chat-time';
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const meta = document.createElement('div');
  meta.className = 'chat-meta';
  meta.append(who, time);
  if (m.recovered) {
    item.classList.add('recovered');
    const tag = document.createElement('span');
    tag.className = 'chat-tag';
    tag.textContent = 'missed';
    tag.title = 'Sent while you were away; delivered when the connection came back';
    meta.append(tag);
  }
  const body = document.createElement('p');
  body.className = 'chat-text';
  body.textContent = clip(chatText(m.data));
  item.append(meta, body);
  return item;
}

/** @param {import('/sdk.js').Publication} m */
function addMessage(m) {
  const item = messageItem(m);
  if (item === null) return;
  appendChat(item);
}

/**
 * A line that is not a message: someone joined or left (`event`), or what happened to the stream (`note`).
 * @param {string} text @param {'event' | 'note'} kind @param {'ok' | 'warn'} [tone]
 */
function chatLine(text, kind, tone) {
  const item = document.createElement('li');
  item.className = `chat-${kind}`;
  if (tone) item.dataset.tone = tone;
  item.textContent = text;
  appendChat(item);
  return item;
}

/** @param {HTMLElement} item */
function appendChat(item) {
  el.chatEmpty.hidden = true;
  el.chatList.append(item);
  trimChat();
  el.chatList.scrollTop = el.chatList.scrollHeight;
}

function trimChat() {
  while (el.chatList.childElementCount > MAX_CHAT + 1) el.chatEmpty.nextElementSibling?.remove();
}

/** Logged out, or someone else logged in: no messages on screen, no position to resume from. */
function forgetChat() {
  clearChat();
  chatPosition = null;
  here = new Map();
}

/** After a resync: what is on screen may have holes; it is replaced by the latest from history. */
function clearChat() {
  el.chatList.replaceChildren(el.chatEmpty);
  el.chatEmpty.hidden = false;
  shown = new Set();
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
    log(
      'error',
      `message not sent: ${/** @type {{serverCode?: string, message: string}} */ (error).serverCode ?? /** @type {Error} */ (error).message}`,
    );
  }
  el.chatInput.focus();
});

render();
void restoreSession();
