/**
 * Browser-test support: Debian's Chromium driven by playwright-core (no browser download), a
 * fresh profile per launch, screenshots under test-artifacts/screenshots/, and an up-to-date SDK
 * bundle (static/sdk.js is generated, so a stale or missing one is rebuilt first).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectRoot } from '../support/server-process.ts';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export const screenshotDir = path.join(projectRoot, 'test-artifacts/screenshots');

/** Headless Chromium; playwright gives every launch its own temporary user-data dir. */
export function launch(options: { home?: string } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    // Chromium on Linux reads user-trusted CAs from $HOME/.pki/nssdb (see trustingHome).
    env: { ...process.env, ...(options.home ? { HOME: options.home } : {}) },
  });
}

/**
 * A throwaway $HOME whose NSS database trusts `caFile` for TLS servers: the real trust path a user
 * gets with `certutil` (Debian: libnss3-tools). null when certutil is not installed.
 */
export function trustingHome(caFile: string): string | null {
  if (spawnSync('certutil', ['-H'], { stdio: 'ignore' }).error) return null;
  const home = mkdtempSync(path.join(os.tmpdir(), 'hws-chromium-home-'));
  const db = path.join(home, '.pki/nssdb');
  mkdirSync(db, { recursive: true });
  execFileSync('certutil', ['-d', `sql:${db}`, '-N', '--empty-password'], { stdio: 'pipe' });
  execFileSync('certutil', ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'hardened-ws test CA', '-i', caFile], { stdio: 'pipe' });
  return home;
}

let shot = 0;

/** Starts a fresh set: screenshots of an earlier run would mix with this one's numbering. */
export function resetScreenshots(): void {
  rmSync(screenshotDir, { recursive: true, force: true });
  shot = 0;
}

export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  // A later test file in the same run continues the numbering instead of interleaving with it.
  if (shot === 0) shot = readdirSync(screenshotDir).length;
  const file = path.join(screenshotDir, `${String(++shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? true });
  return file;
}

/** Rebuilds static/sdk.js when it is missing or older than any source it is built from. */
export function ensureSdkBuilt(): void {
  const out = path.join(projectRoot, 'static/sdk.js');
  const sources = [
    ...readdirSync(path.join(projectRoot, 'src/client')).map((f) => path.join(projectRoot, 'src/client', f)),
    path.join(projectRoot, 'src/protocol/close-codes.ts'),
  ];
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (existsSync(out) && statSync(out).mtimeMs >= newest) return;
  execFileSync(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts/build-client.ts')], {
    cwd: projectRoot,
    stdio: 'pipe',
  });
}

export function writeArtifact(name: string, text: string): void {
  mkdirSync(path.dirname(path.join(projectRoot, 'test-artifacts', name)), { recursive: true });
  writeFileSync(path.join(projectRoot, 'test-artifacts', name), text);
}
