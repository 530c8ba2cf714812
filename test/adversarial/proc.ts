/** The server process's memory, read from /proc (Linux). */
import { readFileSync, readdirSync } from 'node:fs';

// ---------------------------------------------------------------------------------------------
// Server memory
// ---------------------------------------------------------------------------------------------

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        out.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
      } catch {
        // thread gone
      }
    }
  } catch {
    // process gone
  }
  return out;
}

/** VmRSS in KiB of `pid` and all its descendants (0 if gone). */
export function treeRssKb(pid: number): number {
  let total = 0;
  const stack = [pid];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    try {
      const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      total += Number(match?.[1] ?? 0);
    } catch {
      continue;
    }
    stack.push(...childrenOf(p));
  }
  return total;
}

export interface RssWatch {
  readonly baselineKb: number;
  /** Stops sampling; returns the baseline and the peak seen. */
  stop(): { baselineKb: number; peakKb: number; growthMb: number };
}

/** Samples the server's RSS every `intervalMs` until stopped. */
export function watchRss(pid: number, intervalMs = 50): RssWatch {
  const baselineKb = treeRssKb(pid);
  let peakKb = baselineKb;
  const timer = setInterval(() => {
    peakKb = Math.max(peakKb, treeRssKb(pid));
  }, intervalMs);
  return {
    baselineKb,
    stop() {
      clearInterval(timer);
      peakKb = Math.max(peakKb, treeRssKb(pid));
      return { baselineKb, peakKb, growthMb: Math.round(((peakKb - baselineKb) / 1024) * 10) / 10 };
    },
  };
}
