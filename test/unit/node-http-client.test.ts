/** The Node hook client (src/runtime/node-http-client.ts) behaves as fetch where the hooks rely on it. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { nodePost } from '../../src/runtime/node-http-client.ts';
import { freePort } from '../support/redis-server.ts';

describe('nodePost', () => {
  let server: http.Server;
  let base: string;
  const sockets = new Set<unknown>();
  before(async () => {
    server = http.createServer((req, res) => {
      sockets.add(req.socket);
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        if (req.url === '/hang') return;
        if (req.url === '/empty') return void res.writeHead(204).end();
        res.writeHead(req.url === '/fail' ? 500 : 200, { 'content-type': 'application/json', 'x-seen': req.headers.authorization ?? '' });
        res.end(JSON.stringify({ method: req.method, body, length: req.headers['content-length'] }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const post = (path: string, signal = new AbortController().signal) =>
    nodePost(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: '{"é":1}',
      signal,
    });

  it('POSTs the body with its byte length and headers; answers status, headers and body; keeps the connection alive', async () => {
    const first = await post('/ok');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-seen'), 'Bearer t');
    assert.deepEqual(await first.json(), { method: 'POST', body: '{"é":1}', length: '8' });
    const second = await post('/ok');
    await second.text();
    assert.equal(sockets.size, 1, 'one connection for both calls');
    const failed = await post('/fail');
    assert.equal(failed.status, 500);
    assert.equal((await post('/empty')).status, 204);
  });

  it('an abort rejects with an AbortError and drops the request; a refused connection rejects with a TypeError', async () => {
    const controller = new AbortController();
    const pending = post('/hang', controller.signal);
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(post('/ok', aborted.signal), (e: unknown) => e instanceof Error && e.name === 'AbortError');
    const closed = await freePort();
    await assert.rejects(
      nodePost(`http://127.0.0.1:${closed}/x`, { method: 'POST', headers: {}, body: '', signal: new AbortController().signal }),
      TypeError,
    );
  });
});
