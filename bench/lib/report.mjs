/* global URL, process */
/**
 * Results as Markdown (bench/results/latest.md, and the results block of BENCHMARKS.md) and as a
 * hand-written SVG bar chart of the per-repetition ratios (median bar, IQR whisker, target mark).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { SERVERS, bin } from './servers.mjs';

const version = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0];
  } catch {
    return 'unknown';
  }
};

export function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const lock = (name) => {
    try {
      return JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
    } catch {
      return pkg.dependencies?.[name] ?? pkg.devDependencies?.[name] ?? 'unknown';
    }
  };
  return {
    nproc: Number(version('nproc', ['--all'])),
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? 'unknown',
    cpuMHz: /cpu MHz\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? null,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    fileLimit: version('sh', ['-c', 'ulimit -n']),
    node: process.versions.node,
    bun: version(bin('bun'), ['--version']),
    deno: version(bin('deno'), ['--version']),
    packages: {
      ws: lock('ws'),
      hono: lock('hono'),
      '@hono/node-server': lock('@hono/node-server'),
      'socket.io': lock('socket.io'),
      'socket.io-client': lock('socket.io-client'),
    },
  };
}

const label = (name) => SERVERS[name]?.label ?? name;
const num = (n, digits = 0) =>
  Number.isFinite(n) ? (Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits)) : '—';
const ratioText = (r) => (Number.isFinite(r.median) ? `${r.median.toFixed(2)}× (IQR ${r.q1.toFixed(2)}–${r.q3.toFixed(2)})` : '—');

export function renderMarkdown(run) {
  const m = run.machine;
  const out = [];
  out.push(
    `Run ${run.startedAt} (${run.mode}, ${run.repetitions} repetition${run.repetitions > 1 ? 's' : ''}, ${run.durationSeconds.toFixed(0)} s)${run.git ? `, commit ${run.git.commit.slice(0, 10)}${run.git.srcDirty ? ' + uncommitted src/ changes' : ''}` : ''}${run.distStale ? ' — dist/ was older than src/' : ''}.`,
  );
  out.push(
    `Machine: ${m.nproc} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}; Node ${m.node}, Bun ${m.bun}, ${m.deno}; ws ${m.packages.ws}, hono ${m.packages.hono}, @hono/node-server ${m.packages['@hono/node-server']}, socket.io ${m.packages['socket.io']}.`,
  );
  out.push('');
  out.push('### Targets');
  out.push('');
  out.push('| target | result | measured |');
  out.push('| --- | --- | --- |');
  for (const t of run.targets)
    out.push(`| ${t.name} | ${t.met === null ? 'not measured' : t.met ? '**met**' : '**not met**'} | ${t.display} |`);
  for (const s of run.scenarios) {
    out.push('');
    out.push(`### ${s.title}`);
    out.push('');
    const keys = Object.keys(s.unit);
    out.push(`| server | ${keys.map((k) => `${s.unit[k]} (median, IQR)`).join(' | ')} | server core busy | trials |`);
    out.push(`| --- | ${keys.map(() => '---').join(' | ')} | --- | --- |`);
    for (const [name, p] of Object.entries(s.perServer)) {
      const limited = p.clientLimitedTrials > 0 && !s.noSaturation;
      const cells = keys.map((k) => `${limited && s.higher ? '≥ ' : ''}${num(p[k].median, 1)} (${num(p[k].q1, 1)}–${num(p[k].q3, 1)})`);
      out.push(
        `| ${label(name)} | ${cells.join(' | ')} | ${(p.serverBusy.median * 100).toFixed(0)} %${limited ? ` (client-limited in ${p.clientLimitedTrials}/${p.trials})` : ''} | ${p.trials} |`,
      );
    }
    if (s.comparisons.length > 0) {
      out.push('');
      out.push('| per-repetition ratio | median (IQR) | per repetition | target |');
      out.push('| --- | --- | --- | --- |');
      for (const c of s.comparisons) {
        const note = c.inverted ? ' (baseline ÷ product: > 1 = product faster)' : '';
        const limited = c.clientLimitedReps > 0 ? ` — client-limited in ${c.clientLimitedReps} rep(s)` : '';
        out.push(
          `| ${c.name}${note} | ${ratioText(c.ratio)}${limited} | ${c.ratios.map((r) => r.toFixed(2)).join(', ')} | ${c.target !== undefined ? `≥ ${c.target}×` : '—'} |`,
        );
      }
    }
  }
  if (run.memory) {
    out.push('');
    out.push('### Memory per idle authenticated connection (RSS after a forced GC, heartbeats at defaults)');
    out.push('');
    const steps = [...new Set(run.memory.flatMap((mm) => (mm.points ?? []).map((p) => p.target)).filter(Boolean))];
    out.push(
      `| server | RSS with 0 sockets | ${steps.map((s) => `${s.toLocaleString('en-US')} sockets`).join(' | ')} | probe p99 idle → loaded |`,
    );
    out.push(`| --- | --- | ${steps.map(() => '---').join(' | ')} | --- |`);
    for (const mm of run.memory) {
      if (mm.error) {
        out.push(`| ${label(mm.server)} | failed: ${mm.error.split('\n')[0]} |`);
        continue;
      }
      const base = mm.points[0];
      const cells = steps.map((s) => {
        const p = mm.points.find((q) => q.target === s);
        if (!p) return '—';
        const heap = p.heapPerConnectionBytes !== undefined ? `, heap ${(p.heapPerConnectionBytes / 1024).toFixed(2)}` : '';
        return `${(p.perConnectionBytes / 1024).toFixed(2)} KiB${heap}${p.connections !== s ? ` (${p.connections} held)` : ''}`;
      });
      const probe = mm.probes
        ? `${(mm.probes.idle.p99Us / 1000).toFixed(2)} → ${(mm.probes.loaded.p99Us / 1000).toFixed(2)} ms (×${mm.probes.p99Ratio.toFixed(2)})`
        : '—';
      out.push(`| ${label(mm.server)} | ${(base.rss / 2 ** 20).toFixed(1)} MiB | ${cells.join(' | ')} | ${probe} |`);
    }
  }
  // `attempt` counts the noisy attempts discarded before a trial's kept one.
  const trials = run.scenarios.flatMap((s) => s.trials);
  const discarded = trials.reduce((n, t) => n + (t.attempt ?? 0) + (t.discarded ? 1 : 0), 0);
  const lost = trials.filter((t) => t.discarded).length;
  out.push('');
  out.push(
    `Noise: ${discarded} noisy trial attempt(s) discarded${lost ? `, ${lost} trial(s) still noisy after the retries and left out of the ratios` : ''} (another process used > ${run.method.noise.foreign * 100} % of the server core or > ${(run.method.noise.loadForeign ?? 0.2) * 100} % of the load core, or steal > ${run.method.noise.steal * 100} %; re-run up to ${run.method.noise.retries} times). Server core busy before the run: ${(run.quietBefore.busyShare * 100).toFixed(0)} %, loadavg ${run.quietBefore.loadavg.one}.`,
  );
  return `${out.join('\n')}\n`;
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars: one per comparison, median ratio with the IQR as a whisker; a dashed mark at the target; a line at 1×. */
export function renderSvg(run) {
  const rows = run.scenarios.flatMap((s) => s.comparisons.filter((c) => Number.isFinite(c.ratio.median)));
  for (const mm of run.memory ?? []) {
    if (mm.probes)
      rows.push({
        name: `probe p99 idle ÷ with ${mm.probes.connections} idle (${mm.server})`,
        ratio: { median: 1 / mm.probes.p99Ratio, q1: 1 / mm.probes.p99Ratio, q3: 1 / mm.probes.p99Ratio },
        target: 0.5,
      });
  }
  const width = 900;
  const left = 390;
  const barArea = width - left - 60;
  const rowH = 26;
  const top = 50;
  const height = top + rows.length * rowH + 40;
  const max = Math.max(2, ...rows.map((r) => Math.max(r.ratio.q3, r.target ?? 0))) * 1.05;
  const x = (v) => left + (Math.max(0, v) / max) * barArea;
  const parts = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">hardened-ws ÷ baseline, per-repetition ratio (median, IQR whisker; &gt; 1 = product better)</text>`,
  );
  parts.push(
    `<text x="${width / 2}" y="37" text-anchor="middle" fill="#555">${esc(`${run.startedAt} · ${run.mode} · ${run.repetitions} rep(s) · ${run.machine.nproc} × ${run.machine.cpuModel}`)}</text>`,
  );
  for (let v = 0; v <= max; v += max > 6 ? 1 : 0.5) {
    parts.push(
      `<line x1="${x(v)}" y1="${top - 4}" x2="${x(v)}" y2="${top + rows.length * rowH}" stroke="${v === 1 ? '#333' : '#e5e5e5'}" stroke-width="${v === 1 ? 1.5 : 1}"/>`,
    );
    parts.push(`<text x="${x(v)}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#555">${v}×</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const met = r.target === undefined ? null : r.ratio.median >= r.target;
    const color = met === null ? '#8da0cb' : met ? '#66a61e' : '#e7298a';
    parts.push(`<text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(r.name)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 5}" width="${Math.max(1, x(r.ratio.median) - left)}" height="${rowH - 10}" fill="${color}"/>`);
    parts.push(
      `<line x1="${x(r.ratio.q1)}" y1="${y + rowH / 2}" x2="${x(r.ratio.q3)}" y2="${y + rowH / 2}" stroke="#222" stroke-width="1.5"/>`,
    );
    parts.push(
      `<line x1="${x(r.ratio.q1)}" y1="${y + 8}" x2="${x(r.ratio.q1)}" y2="${y + rowH - 8}" stroke="#222"/><line x1="${x(r.ratio.q3)}" y1="${y + 8}" x2="${x(r.ratio.q3)}" y2="${y + rowH - 8}" stroke="#222"/>`,
    );
    if (r.target !== undefined)
      parts.push(
        `<line x1="${x(r.target)}" y1="${y + 2}" x2="${x(r.target)}" y2="${y + rowH - 2}" stroke="#000" stroke-dasharray="3,2" stroke-width="2"/>`,
      );
    parts.push(
      `<text x="${Math.max(x(r.ratio.median), x(r.ratio.q3)) + 6}" y="${y + 16}" fill="#222">${r.ratio.median.toFixed(2)}×</text>`,
    );
  });
  parts.push(
    `<text x="${left}" y="${height - 6}" fill="#555">green: target met · pink: target not met · blue: no target · dashed: target</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

const START = '<!-- bench:results:start (written by `npm run bench`) -->';
const END = '<!-- bench:results:end -->';

/** Replaces the results block of BENCHMARKS.md with this run's tables (full runs only). */
export function updateBenchmarksMd(file, md, jsonPath) {
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) return;
  const block = `${START}\n\n${md}\nRaw data: \`${jsonPath}\`; chart: [bench/results/latest.svg](bench/results/latest.svg).\n\n${END}`;
  writeFileSync(file, text.slice(0, a) + block + text.slice(b + END.length));
}
