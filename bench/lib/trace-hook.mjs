/* global process, performance, setInterval, Bun */
/**
 * Preloaded into a process under diagnosis (`bench/probe-trace.mjs`; never part of the product or
 * of a bench run): writes one stderr line per garbage collection on Node
 * (`{"msg":"trace.gc","t":epoch ms,"ms":duration,"kind"}`) and, with TRACE_STALL_MS set, one per
 * event-loop stall longer than that (`{"msg":"trace.stall","t":start,"ms"}`; a 1 ms interval
 * timer, so it adds a little load of its own).
 */
import { PerformanceObserver } from 'node:perf_hooks';

const write = (o) => process.stderr.write(`${JSON.stringify(o)}\n`);
if (typeof Bun === 'undefined') {
  const kinds = { 1: 'scavenge', 2: 'minor-ms', 4: 'mark-compact', 8: 'incremental', 16: 'weak-cb' };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      write({ msg: 'trace.gc', t: performance.timeOrigin + e.startTime, ms: e.duration, kind: kinds[e.detail?.kind] ?? e.detail?.kind });
  }).observe({ entryTypes: ['gc'] });
}
const stallMs = Number(process.env.TRACE_STALL_MS ?? 0);
if (stallMs > 0) {
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last > stallMs + 1) write({ msg: 'trace.stall', t: performance.timeOrigin + last, ms: now - last - 1 });
    last = now;
  }, 1).unref();
}
