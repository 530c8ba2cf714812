/**
 * Hand-built frames and the raw WebSocket client: src/audit's, plus the suite's valid handshake
 * (asserting the 101 and the accept key) and its authenticated variant.
 */
import assert from 'node:assert/strict';
import { RawWebSocket, describeClose } from '../../src/audit/ws.ts';
import { acceptFor, describeOutcome, randomKey, sendRequest, upgradeRequest, type Endpoint } from './raw-conn.ts';

export { RawWebSocket, describeClose, type CloseResult } from '../../src/audit/ws.ts';
export {
  buildFrame,
  frameHeader,
  maskFrom,
  Opcode,
  parseFrame,
  RSV1,
  RSV2,
  RSV3,
  textFrame,
  type Frame,
  type FrameSpec,
  type LengthForm,
} from '../../src/audit/frames.ts';

export interface OpenOptions {
  readonly origin?: string | null;
  readonly path?: string;
  readonly timeoutMs?: number;
}

/** A valid handshake over a raw socket; asserts the 101 and the accept key. */
export async function openRawWebSocket(endpoint: Endpoint, options: OpenOptions = {}): Promise<RawWebSocket> {
  const key = randomKey();
  const host = `${endpoint.host}:${endpoint.port}`;
  const { conn, outcome } = await sendRequest(
    endpoint,
    upgradeRequest({ host, key, origin: options.origin, path: options.path }),
    options.timeoutMs ?? 5_000,
  );
  if (outcome.kind !== 'response' || outcome.status !== 101) {
    conn.destroy();
    throw new Error(`raw upgrade refused: ${describeOutcome(outcome)}`);
  }
  assert.equal(outcome.headers['sec-websocket-accept'], await acceptFor(key), 'Sec-WebSocket-Accept');
  return new RawWebSocket(conn);
}

/** Completes a valid handshake, sends the auth frame and waits for auth.ok. */
export async function openAuthenticatedRaw(endpoint: Endpoint, ticket: string, options: OpenOptions = {}): Promise<RawWebSocket> {
  const ws = await openRawWebSocket(endpoint, options);
  await ws.sendJson({ type: 'auth', ticket });
  const ok = await ws.message((m) => m.type === 'auth.ok', options.timeoutMs ?? 5_000);
  if (!ok) {
    const closed = await ws.closeResult(100);
    ws.destroy();
    throw new Error(`raw auth failed: ${describeClose(closed)}`);
  }
  return ws;
}
