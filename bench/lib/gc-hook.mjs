/* global process, Bun */
/**
 * Preloaded into a server under test (Node: `--expose-gc --import`, Bun: `--preload`), never part
 * of the product: on SIGUSR2 it runs a full garbage collection and writes one line
 * `{"msg":"bench.gc","rss":…,"heapUsed":…}` to stderr, so the harness can read memory after a
 * forced GC without any change to the server's code.
 */
process.on('SIGUSR2', () => {
  const started = Date.now();
  if (typeof Bun !== 'undefined') Bun.gc(true);
  else if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  const usage = process.memoryUsage();
  process.stderr.write(
    `${JSON.stringify({ msg: 'bench.gc', ms: Date.now() - started, rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external })}\n`,
  );
});
