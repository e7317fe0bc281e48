// Starts a real backline server with demo data and a headless Debian Chromium for the tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = join(here, 'artifacts');
export const PASSWORD = 'backline-demo';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

// Healthy and with its search index caught up with the demo data: until then searches and
// suggestions cannot find everything (a busy machine made the suggestion tests fail).
async function waitReady(base, child) {
  const deadline = Date.now() + 60_000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`backline exited with ${child.exitCode}`);
    try {
      const reply = await fetch(`${base}/healthz`);
      if (reply.ok) {
        const health = await reply.json();
        if (health.search?.state === 'ready') return;
        last = JSON.stringify(health);
      }
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`backline did not become ready: ${last}`);
}

/** A server with demo data (Secure cookies left on, as in production) and a browser. */
export async function start() {
  const bin = process.env.BACKLINE_BIN ?? join(here, '../../target/debug/backline');
  const data = mkdtempSync(join(tmpdir(), 'backline-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ['serve', '--demo', '--data', data, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, BACKLINE_DATABASE_URL: '' },
  });
  await waitReady(base, child);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    base,
    browser,
    async stop() {
      await browser.close();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** A fresh browser context signed in as `email`, at 1280 px wide unless `viewport` says. */
export async function signIn(env, email, viewport = { width: 1280, height: 860 }) {
  const context = await env.browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${env.base}/cases`);
  await page.waitForURL(/\/login/);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(/\/cases/), page.click('button[type=submit]')]);
  return page;
}

// Evaluated rather than added as a script tag: the site's Content-Security-Policy (rightly)
// blocks inline scripts, and an evaluation through the browser's debugging protocol is not
// page script.
const AXE_SOURCE = readFileSync(join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it is now and returns its serious and critical violations,
 * each as "rule: what (where)", for an assertion to list.
 */
export async function audit(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.evaluate(AXE_SOURCE);
  }
  const found = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
  });
  return found.map((v) => `${new URL(page.url()).pathname}: ${v}`);
}

/** How far the page is wider than the window (0 when nothing scrolls sideways). */
export async function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}
