/* global process, Bun */
/**
 * Preloaded into a server under test (Node: `--expose-gc --import`, Bun: `--preload`), never part
 * of the product: on SIGUSR2 it runs a full garbage collection and writes one line
 * `{"msg":"bench.gc","rss":…,"heapUsed":…}` to stderr, so the harness can read memory after a
 * forced GC without any change to the server's code. On Bun with BENCH_JSC_TYPES=1 the line also
 * carries JSC's live object counts by type, its heap size and capacity (`bench:heap` on Bun reads them).
 */
const jsc = typeof Bun !== 'undefined' && process.env.BENCH_JSC_TYPES === '1' ? await import('bun:jsc') : null;
process.on('SIGUSR2', () => {
  const started = Date.now();
  if (typeof Bun !== 'undefined') Bun.gc(true);
  else if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  const usage = process.memoryUsage();
  const line = { msg: 'bench.gc', ms: Date.now() - started, rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external };
  if (jsc !== null) {
    const stats = jsc.heapStats();
    Object.assign(line, {
      heapSize: stats.heapSize,
      heapCapacity: stats.heapCapacity,
      extraMemory: stats.extraMemorySize,
      objectCount: stats.objectCount,
      types: stats.objectTypeCounts,
    });
  }
  process.stderr.write(`${JSON.stringify(line)}\n`);
});
