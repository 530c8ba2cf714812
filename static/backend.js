// The backend demo page: notifications the application's backend publishes to user:{sub} through the
// server API, and RPC calls the server forwards to the backend (examples/backend.ts). Network text is
// rendered only through textContent; the ticket is never shown.
import { connect, fetchTicket } from '/sdk.js';

/** @param {string} id */
function $(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing element #${id}`);
  return found;
}

const el = {
  status: $('status'),
  loginForm: /** @type {HTMLFormElement} */ ($('login-form')),
  username: /** @type {HTMLInputElement} */ ($('username')),
  password: /** @type {HTMLInputElement} */ ($('password')),
  accountStatus: $('account-status'),
  rpcForm: /** @type {HTMLFormElement} */ ($('rpc-form')),
  rpcMethod: /** @type {HTMLSelectElement} */ ($('rpc-method')),
  rpcData: /** @type {HTMLInputElement} */ ($('rpc-data')),
  rpcSend: /** @type {HTMLButtonElement} */ ($('rpc-send')),
  rpcResult: $('rpc-result'),
  notes: $('notes'),
  notesEmpty: $('notes-empty'),
  notesChannel: $('notes-channel'),
  notesStatus: $('notes-status'),
};

const WS_URL = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
/** @type {import('/sdk.js').Client | null} */
let client = null;

/** @param {unknown} value */
const show = (value) => {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
};

function render() {
  const state = client?.state ?? 'idle';
  el.status.dataset.state = state === 'closed' ? 'closed' : state;
  el.status.textContent = state === 'open' ? 'Connected' : state === 'idle' ? 'Not connected' : state[0].toUpperCase() + state.slice(1);
  el.rpcSend.disabled = state !== 'open';
}

/** @param {string} sub */
async function start(sub) {
  el.loginForm.hidden = true;
  el.accountStatus.textContent = `Signed in as ${sub}.`;
  const channel = `user:${sub}`;
  el.notesChannel.textContent = channel;
  client = connect({ url: WS_URL, getTicket: () => fetchTicket('/auth/ticket') });
  client.on('state', render);
  render();
  try {
    await client.subscribe(channel, (data, meta) => addNote(data, meta.from));
    el.notesStatus.textContent = `Listening on ${channel}.`;
  } catch (error) {
    el.notesStatus.textContent = `Could not subscribe: ${error instanceof Error ? error.message : 'error'}`;
  }
}

/** @param {unknown} data @param {string} from */
function addNote(data, from) {
  el.notesEmpty.remove();
  const item = document.createElement('li');
  const who = document.createElement('strong');
  who.textContent = from === '$api' ? 'backend' : from;
  const text = document.createElement('span');
  const note = /** @type {{title?: unknown, text?: unknown}} */ (typeof data === 'object' && data !== null ? data : {});
  text.textContent = ` ${typeof note.title === 'string' ? `${note.title}: ` : ''}${typeof note.text === 'string' ? note.text : show(data)}`;
  item.append(who, text);
  el.notes.append(item);
}

el.rpcForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (client === null) return;
  let data;
  try {
    data = el.rpcData.value.trim() === '' ? null : JSON.parse(el.rpcData.value);
  } catch {
    el.rpcResult.textContent = 'Data is not JSON.';
    return;
  }
  const started = performance.now();
  try {
    const reply = await client.request({ type: 'rpc', method: el.rpcMethod.value, data });
    el.rpcResult.textContent = `${show(/** @type {{data?: unknown}} */ (reply).data)} — ${Math.round(performance.now() - started)} ms round trip`;
  } catch (error) {
    const code = /** @type {{serverCode?: string}} */ (error).serverCode;
    el.rpcResult.textContent = `Error: ${code ?? (error instanceof Error ? error.message : 'failed')} (${Math.round(performance.now() - started)} ms)`;
  }
});

el.loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await fetch('/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: el.username.value, password: el.password.value }),
  });
  if (response.status !== 204) {
    el.accountStatus.textContent = response.status === 429 ? 'Too many attempts; wait a moment.' : 'Wrong username or password.';
    return;
  }
  el.password.value = '';
  await checkSession();
});

async function checkSession() {
  const response = await fetch('/auth/session').catch(() => null);
  if (response?.status === 200) {
    const { sub } = /** @type {{sub: string}} */ (await response.json());
    await start(sub);
    return;
  }
  el.loginForm.hidden = false;
  el.accountStatus.textContent = 'Log in (demo / demo).';
}

render();
void checkSession();
