/* global Buffer, process */
/**
 * The application backend of the rpc benchmark: answers every hook call with `{"data": <the
 * request's data>}` (an echo), over node:http with keep-alive, checking the bearer secret. Prints
 * its port as a JSON line; counts the CPU time it spent per call on SIGUSR2 (for "where the time goes").
 */
import http from 'node:http';

const secret = process.env.HOOK_SECRET ?? '';
let calls = 0;
const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    calls++;
    if (req.headers.authorization !== `Bearer ${secret}`) return void res.writeHead(401).end();
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const out = JSON.stringify({ data: body.data });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) }).end(out);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ msg: 'backend.listening', port: server.address().port })}\n`));
process.on('SIGUSR2', () => {
  const { user, system } = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ msg: 'backend.cpu', calls, cpuUs: user + system })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
