/**
 * Raw-socket tools for the adversarial suite: a TCP/TLS client that sends arbitrary bytes (handshake
 * lines, hand-built frames with any opcode, RSV bits, FIN, mask and 7/16/64-bit length) and reads
 * the raw answer (HTTP status line, or WebSocket frames and the close code), always with timeouts.
 * They are the audit's own (src/audit, the one implementation of raw sockets, frames and
 * handshakes), run on the runtime's audit host. Loopback only: every helper refuses a host outside
 * 127.0.0.0/8 and ::1.
 *
 * raw-conn.ts: the byte pipe and HTTP handshakes; raw-ws.ts: frames and the raw WebSocket client;
 * kernel-tcp.ts: the kernel's view of a connection; proc.ts: the server's memory. This module
 * re-exports them and adds the well-behaved client.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { authenticated, type Target } from '../support/flow.ts';

export * from './raw-conn.ts';
export * from './raw-ws.ts';
export * from './kernel-tcp.ts';
export * from './proc.ts';

// ---------------------------------------------------------------------------------------------
// The well-behaved client
// ---------------------------------------------------------------------------------------------

/**
 * Proves the server still serves others: login (or reuse `cookie`) → ticket → connect → auth →
 * echo, then a clean close. Returns the echo round trip in ms. Every case calls this after its attack.
 */
export async function wellBehavedClientWorks(target: Target, cookie?: string): Promise<number> {
  const socket = await authenticated(target, cookie);
  try {
    const data = `still-serving-${randomBytes(6).toString('hex')}`;
    const started = performance.now();
    socket.send({ type: 'echo', id: 'good', data });
    const reply = await socket.message(1, 5_000);
    const rtt = performance.now() - started;
    assert.deepEqual(reply, { type: 'echo', id: 'good', data }, 'the well-behaved client gets its echo');
    return rtt;
  } finally {
    socket.close();
    await socket.closeCode(3_000).catch(() => undefined);
  }
}
