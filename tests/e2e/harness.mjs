// Shared by the end-to-end tests and the page benchmark: a static server for
// www/ on a loopback port, and Debian's chromium driven by playwright-core.

import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// LAB_WWW: serve another copy of the page (to compare two versions side by side)
export const WWW = process.env.LAB_WWW ? path.resolve(process.env.LAB_WWW) : path.join(ROOT, 'www');
export const SHOTS = path.join(ROOT, 'target', 'e2e');
/** The native binary the tests compare the page with (`cargo build --release`). */
export const BIN = path.join(ROOT, 'target', 'release', 'gossip');

/**
 * A test file's page and browser: before its tests, checks the page is
 * built (and with `bin`, the native binary), runs `setup`, serves www/ and
 * launches chromium; after them, runs `cleanup` and closes both. Returns
 * `{ server, browser }`, filled in once started.
 */
export function labSuite({ bin = false, setup = null, cleanup = null } = {}) {
  const suite = { server: null, browser: null };
  before(async () => {
    assert.ok(fs.existsSync(path.join(WWW, 'pkg', 'gossip_bg.wasm')), 'build the page first: scripts/build-web.sh');
    if (bin) assert.ok(fs.existsSync(BIN), 'build the native binary first: cargo build --release');
    fs.mkdirSync(SHOTS, { recursive: true });
    if (setup) await setup();
    suite.server = await serveWww();
    suite.browser = await launch();
  });
  after(async () => {
    if (cleanup) await cleanup();
    await suite.browser?.close();
    await suite.server?.close();
  });
  return suite;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png',
  '.svg': 'image/svg+xml', '.ts': 'text/plain',
};

/** Serve www/ on 127.0.0.1 at an ephemeral port; resolves to { url, close }. */
export function serveWww(root = WWW) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = path.normalize(path.join(root, decodeURIComponent(url.pathname)));
    if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
    if (file.endsWith(path.sep)) file = path.join(file, 'index.html');
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404).end('not found'); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(data);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

/** Debian's chromium, headless, as root on a closed network. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'],
    timeout: 60_000,
  });
}

/** A page on the lab at `hash`, with gossipLab ready; console errors collected in page.errors. */
export async function openLab(browser, base, hash = '', viewport = { width: 1440, height: 1000 }) {
  const page = await browser.newPage({ viewport });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  await page.goto(`${base}${hash ? `#${hash}` : ''}`);
  await page.waitForFunction(() => window.gossipLab !== undefined, null, { timeout: 30_000 });
  return page;
}

/**
 * Ports for native nodes come from below the kernel's ephemeral range
 * (32768-60999 by default), so no outgoing connection can take one between
 * the check and the node's bind; none is handed out twice by this run.
 */
const PORTS = { start: 20000, end: 32000 };
let handed = Math.floor(Math.random() * (PORTS.end - PORTS.start));

/** Whether `port` can be bound on loopback now. */
export function isFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The first of `k` consecutive ports free now and never handed out before. */
export async function freeRun(k) {
  const len = PORTS.end - PORTS.start;
  for (let tries = 0; tries < 200; tries++) {
    const first = handed % len;
    handed += k;
    if (first + k > len) continue;
    let ok = true;
    for (let p = PORTS.start + first; p < PORTS.start + first + k && ok; p++) ok = await isFree(p);
    if (ok) return PORTS.start + first;
  }
  throw new Error(`no ${k} free ports in a row`);
}

/** Pixels of the canvas that differ from its background (the canvas is cleared to transparent). */
export async function paintedPixels(page, id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  }, id);
}

/**
 * The page's compute-only run of `params` in `page` (a lab page, paused
 * first): its own module's `new Lab(params)` then `advance(Infinity, 1e6)`
 * until it stops, no frame loop. `{ s, report }`: seconds, and the report
 * as `gossip sim --json` prints it. (The benchmarks' "compute only".)
 */
export async function computeOnly(page, params) {
  return page.evaluate(async (params) => {
    window.gossipLab.pause();
    const { Lab } = await import('./pkg/gossip.js');
    const t0 = performance.now();
    const lab = new Lab(params);
    for (let guard = 0; guard < 1e7 && !lab.stopped(); guard++) lab.advance(Infinity, 1e6);
    const s = (performance.now() - t0) / 1000;
    const report = lab.report_json();
    lab.free();
    return { s, report };
  }, params);
}
