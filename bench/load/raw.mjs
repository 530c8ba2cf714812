/* global Bun, TextDecoder, TextEncoder, btoa, crypto */
/**
 * A deliberately cheap WebSocket client for the load generators (Bun, raw TCP via `Bun.connect`):
 * frames are pre-built (masked with the all-zero key, which RFC 6455 allows), many are written
 * with one syscall, and replies are counted by walking frame headers without a JS event per
 * message. This keeps one client core ahead of one server core, which the WebSocket object
 * (one event per message) cannot do against the faster servers. Pings are answered.
 *
 * Speaks three dialects: `product` (ticket flow: upgrade, then the auth frame, waits auth.ok),
 * `plain` (upgrade only) and `socketio` (engine.io v4 over WebSocket: open packet, CONNECT with
 * the token, waits the CONNECT ack; echo envelopes travel as `42["message","…"]`).
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One client frame (FIN, masked with a zero key): text by default. */
export function clientFrame(payload, opcode = 1) {
  const body = typeof payload === 'string' ? encoder.encode(payload) : payload;
  const len = body.length;
  const header = len < 126 ? [0x80 | opcode, 0x80 | len, 0, 0, 0, 0] : [0x80 | opcode, 0x80 | 126, len >> 8, len & 255, 0, 0, 0, 0];
  if (len > 0xffff) throw new Error('frame too large for the bench client');
  const out = new Uint8Array(header.length + len);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/** `n` copies of a frame, back to back (for one write). */
export function repeated(frame, n) {
  const out = new Uint8Array(frame.length * n);
  for (let i = 0; i < n; i++) out.set(frame, i * frame.length);
  return out;
}

/** The text a socket.io client sends for `socket.send(text)`. */
export const socketIoMessage = (text) => `42${JSON.stringify(['message', text])}`;

const CLOSE_FRAME = clientFrame(new Uint8Array([0x03, 0xe8]), 8); // 1000

/**
 * Opens a raw WebSocket connection. `kind`: product | plain | socketio. For `product`, pass the
 * ticket; for `socketio`, the token. Resolves once the connection is ready for messages.
 * The returned socket delivers either every text message (`onText`) or only counts (`onCount`).
 */
export function rawConnect({ host = '127.0.0.1', port, path, kind, ticket, token }) {
  return new Promise((resolve, reject) => {
    let phase = 'http';
    let leftover = null;
    let queue = [];
    let onText = null;
    let onCount = null;
    let closed = false;
    let resolveClosed;
    const closedPromise = new Promise((r) => (resolveClosed = r));
    let tcp;

    const write = (bytes) => {
      if (closed) return;
      if (queue.length > 0) {
        queue.push(bytes);
        return;
      }
      const n = tcp.write(bytes);
      if (n < bytes.length) queue.push(bytes.subarray(Math.max(0, n)));
    };

    const api = {
      write,
      sendText: (text) => write(clientFrame(kind === 'socketio' ? socketIoMessage(text) : text)),
      onText: (fn) => ((onText = fn), (onCount = null)),
      onCount: (fn) => ((onCount = fn), (onText = null)),
      /** Sends a close frame; resolves when the server has closed the TCP connection. */
      close: () => {
        if (!closed) write(CLOSE_FRAME);
        return closedPromise;
      },
      /** Drops the TCP connection without a close handshake. */
      destroy: () => tcp?.end(),
      closed: closedPromise,
    };

    // Handshake steps after the 101, by dialect.
    const onHandshakeText = (text) => {
      if (kind === 'product') {
        if (text.includes('"auth.ok"')) return ready();
        return fail(new Error(`expected auth.ok, got ${text.slice(0, 200)}`));
      }
      if (kind === 'socketio') {
        if (text.startsWith('0{')) return write(clientFrame(`40${JSON.stringify({ token })}`));
        if (text.startsWith('40')) return ready();
        return fail(new Error(`socket.io handshake: ${text.slice(0, 200)}`));
      }
    };
    const ready = () => {
      phase = 'open';
      onText = null;
      resolve(api);
    };
    const fail = (error) => {
      if (phase !== 'open') reject(error);
      phase = 'failed';
      tcp?.end();
    };

    const frames = (buf) => {
      let off = 0;
      let count = 0;
      const len = buf.length;
      while (off + 2 <= len) {
        const b0 = buf[off];
        let plen = buf[off + 1] & 0x7f;
        let hdr = 2;
        if (plen === 126) {
          if (off + 4 > len) break;
          plen = (buf[off + 2] << 8) | buf[off + 3];
          hdr = 4;
        } else if (plen === 127) {
          if (off + 10 > len) break;
          plen = Number(new DataView(buf.buffer, buf.byteOffset + off + 2, 8).getBigUint64(0));
          hdr = 10;
        }
        if (off + hdr + plen > len) break;
        const opcode = b0 & 0x0f;
        const start = off + hdr;
        off = start + plen;
        if (opcode === 1) {
          // engine.io ping ("2") from the socket.io server: answer "3".
          if (kind === 'socketio' && plen === 1 && buf[start] === 0x32) {
            write(clientFrame('3'));
            continue;
          }
          if (phase !== 'open') onHandshakeText(decoder.decode(buf.subarray(start, off)));
          else if (onCount !== null) count++;
          else onText?.(decoder.decode(buf.subarray(start, off)));
        } else if (opcode === 9) {
          write(clientFrame(buf.slice(start, off), 0xa));
        } else if (opcode === 8) {
          if (!closed) write(CLOSE_FRAME);
          tcp.end();
        }
      }
      if (count > 0) onCount(count);
      return off;
    };

    const onData = (chunk) => {
      let buf = chunk;
      if (leftover !== null) {
        buf = new Uint8Array(leftover.length + chunk.length);
        buf.set(leftover);
        buf.set(chunk, leftover.length);
        leftover = null;
      }
      let off = 0;
      if (phase === 'http') {
        const text = decoder.decode(buf);
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) {
          leftover = buf.slice();
          return;
        }
        if (!text.startsWith('HTTP/1.1 101')) return fail(new Error(`upgrade refused: ${text.split('\r\n')[0]}`));
        off = encoder.encode(text.slice(0, end + 4)).length;
        if (kind === 'product') {
          phase = 'auth';
          write(clientFrame(JSON.stringify({ type: 'auth', ticket })));
        } else if (kind === 'socketio') phase = 'sio';
        else ready();
      }
      const used = frames(off === 0 ? buf : buf.subarray(off));
      const rest = buf.length - off - used;
      if (rest > 0) leftover = buf.slice(buf.length - rest);
    };

    Bun.connect({
      hostname: host,
      port,
      socket: {
        open(socket) {
          tcp = socket;
          const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
          socket.write(
            `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
          );
        },
        data(_socket, chunk) {
          onData(chunk);
        },
        drain(socket) {
          while (queue.length > 0) {
            const head = queue[0];
            const n = socket.write(head);
            if (n < head.length) {
              queue[0] = head.subarray(Math.max(0, n));
              return;
            }
            queue.shift();
          }
        },
        close() {
          closed = true;
          queue = [];
          resolveClosed();
          if (phase !== 'open') reject(new Error(`connection closed during handshake (${phase})`));
        },
        error(_socket, error) {
          fail(error);
        },
      },
    }).catch(reject);
  });
}
