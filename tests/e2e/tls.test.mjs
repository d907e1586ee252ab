// The hosted-lab case over HTTPS, in Debian's chromium: `gossip cluster
// --www --tls-cert --tls-key --tls-ca` serves three native nodes AND the
// lab's page over https:// with a certificate from a CA made here with the
// openssl CLI (IP SAN 127.0.0.1, DNS localhost). A page over https:// may
// only fetch from https:// nodes (mixed content is blocked), so this is the
// path a lab on any static HTTPS host takes. Chromium trusts exactly the
// leaf's public key (--ignore-certificate-errors-spki-list), nothing else;
// this test's own checks of the nodes verify the chain against the CA.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { ROOT, WWW, SHOTS, freeRun } from './harness.mjs';

const BIN = path.join(ROOT, 'target', 'release', 'gossip');
let dir, browser, pki;
const procs = [];

/** A CA and a loopback leaf signed by it, with openssl; returns the file paths and the leaf's SPKI hash. */
function makePki(d) {
  const f = (n) => path.join(d, n);
  const ssl = (...args) => execFileSync('openssl', args, { cwd: d, stdio: ['ignore', 'pipe', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'),
    '-days', '2', '-subj', '/CN=gossip e2e CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('node.key'), '-out', f('node.csr'), '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(f('leaf.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-in', f('node.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('node.pem'), '-days', '2', '-extfile', f('leaf.ext'));
  const pub = ssl('x509', '-in', f('node.pem'), '-noout', '-pubkey');
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  const spki = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString('base64');
  return { ca: f('ca.pem'), cert: f('node.pem'), key: f('node.key'), spki };
}

/** GET over HTTPS, verifying the chain against the test CA; the JSON body, or null. */
function getJson(url) {
  return new Promise((resolve) => {
    const req = https.get(url, { ca: fs.readFileSync(pki.ca), timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => { try { resolve(res.statusCode === 200 ? JSON.parse(body) : null); } catch { resolve(null); } });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/** Poll `check` every 300 ms for at most `ms`. */
async function until(what, ms, check) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await check()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

before(async () => {
  assert.ok(fs.existsSync(path.join(WWW, 'pkg', 'gossip_bg.wasm')), 'build the page first: scripts/build-web.sh');
  assert.ok(fs.existsSync(BIN), 'build the native binary first: cargo build --release');
  fs.mkdirSync(SHOTS, { recursive: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gossip-e2e-tls-'));
  pki = makePki(dir);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
      '--disable-dev-shm-usage', `--ignore-certificate-errors-spki-list=${pki.spki}`],
    timeout: 60_000,
  });
});

after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await browser?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('a lab page served over HTTPS joins an HTTPS cluster and favorites flow both ways', { timeout: 120_000 }, async () => {
  const labPort = await freeRun(1);
  const base = await freeRun(3);
  const cluster = spawn(BIN, ['cluster', '--nodes', '3', '--base-port', String(base), '--interval-ms', '300', '--change-ms', '0',
    '--www', WWW, '--www-port', String(labPort), '--tls-cert', pki.cert, '--tls-key', pki.key, '--tls-ca', pki.ca], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  cluster.stderr.on('data', (d) => { err += d; });
  procs.push(cluster);
  const lab = `https://127.0.0.1:${labPort}/`;
  const urls = [0, 1, 2].map((i) => `https://127.0.0.1:${base + i}`);
  await until(`the cluster serves the lab over HTTPS (${err})`, 15_000, async () => (await getJson(`${lab}lab-config.json`))?.connect);
  assert.deepEqual((await getJson(`${lab}lab-config.json`)).nodes, urls, 'the page is pointed at https:// nodes');

  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  await page.goto(`${lab}#nodes=12&scenario=movies&model=events&duration_s=6&resample_ms=2000&seed=5`);
  await page.waitForFunction(() => window.gossipLab !== undefined, null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => window.isSecureContext && location.protocol), 'https:');

  const took = await until('favorites flow both ways over HTTPS', 60_000, async () => {
    const snap = await page.evaluate(() => window.gossipLab.snapshot());
    const virt = snap.nodes.filter((n) => n.kind === 'virtual');
    if (!snap.connected || virt.length !== 12 || virt.some((n) => !n.movie)) return false;
    for (const u of urls) {
      const s = await getJson(`${u}/state`);
      if (!s) return false;
      if (virt.some((v) => s.view[v.name]?.movie !== v.movie || s.view[v.name]?.version !== v.version)) return false;
      const shown = snap.nodes.find((n) => n.kind === 'native' && n.url === u);
      if (!shown || !shown.up || shown.movie !== s.movie || shown.version !== s.version) return false;
    }
    return true;
  });
  console.log(`HTTPS page and HTTPS cluster converged both ways in ${took} ms`);
  for (const u of urls) {
    const s = await getJson(`${u}/state`);
    assert.equal(s.url, u);
    assert.ok(s.peers.every((p) => p.startsWith('https://')), `peers of ${u}: ${s.peers}`);
  }
  assert.deepEqual(page.errors, []);
  await page.screenshot({ path: path.join(SHOTS, 'tls-connected.png') });
  await page.close();
  cluster.kill('SIGTERM');
});
