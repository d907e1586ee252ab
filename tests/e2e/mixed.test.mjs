// Virtual nodes in the page and real native nodes in one network, in
// Debian's chromium: three real `gossip` processes on loopback, a page with
// 20 virtual nodes connected to one of them through the wasm fetch
// transport; the natives check Ed25519 seals, and the page signs its
// nodes' updates, so every update they hold is sealed. Favorites flow both ways; a killed native node is marked
// unreachable while the others converge; native nodes never dial a
// browser-hosted identity. Screenshots go to target/e2e/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { WWW, SHOTS, openLab, freeRun, BIN, labSuite } from './harness.mjs';

const procs = [];

/** `n` distinct free loopback ports. */
async function freePorts(n) {
  const ports = [];
  for (let i = 0; i < n; i++) ports.push(await freeRun(1));
  return ports;
}

/** A native node on `port`, bootstrapping from `boot`, with one fixed favorite (and `extra` flags). */
function native(port, boot, extra = []) {
  const p = spawn(BIN, ['-p', String(port), '-b', String(boot), '--interval-ms', '300', '--change-ms', '0', '--remove-after-ms', '5000', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderr.on('data', () => {});
  procs.push(p);
  return p;
}

async function getJson(url) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return r.ok ? await r.json() : null;
  } catch { return null; }
}

async function getText(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return r.text();
}

/** Poll `check` (async, returns truthy when done) every 300 ms for at most `ms`. */
async function until(what, ms, check) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < ms) {
    last = await check();
    if (last) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

/** Whether every native `/state` holds every virtual node's favorite as the page shows it (or a newer one), and the page shows every native's. */
async function bothWays(page, urls) {
  const snap = await page.evaluate(() => window.gossipLab.snapshot());
  const virt = snap.nodes.filter((n) => n.kind === 'virtual');
  if (virt.length !== 20 || virt.some((n) => !n.movie)) return false;
  for (const u of urls) {
    const s = await getJson(`${u}/state`);
    if (!s) return false;
    // at least the version the page showed (while connected, the page's
    // nodes keep changing favorites, as real nodes do): the same one, or newer
    for (const v of virt) {
      const e = s.view[v.name];
      if (!e || e.epoch < v.epoch || (e.epoch === v.epoch && e.version < v.version)) return false;
      if (e.epoch === v.epoch && e.version === v.version && e.movie !== v.movie) return false;
    }
    const shown = snap.nodes.find((n) => n.kind === 'native' && n.url === u);
    if (!shown || !shown.up || shown.movie !== s.movie || shown.version !== s.version || shown.epoch !== s.epoch) return false;
  }
  return snap;
}

const suite = labSuite({
  bin: true,
  cleanup: async () => {
    for (const p of procs) p.kill('SIGKILL');
  },
});

test('virtual and native favorites reach every node both ways, and a killed native is marked unreachable', { timeout: 150_000 }, async () => {
  const ports = await freePorts(3);
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const nodes = ports.map((p) => native(p, ports[0]));
  await until('the native nodes answer', 15_000, async () => (await Promise.all(urls.map((u) => getJson(`${u}/state`)))).every(Boolean));

  const page = await openLab(suite.browser, suite.server.url, 'nodes=20&scenario=movies&model=events&duration_s=6&resample_ms=2000&seed=3');
  const natives = await page.evaluate((u) => window.gossipLab.connect(u), urls[0]);
  assert.equal(natives.length, 1, 'one node known before any answer');

  const took = await until('favorites flow both ways', 60_000, () => bothWays(page, urls));
  console.log(`both ways in ${took} ms`);
  const snap = await page.evaluate(() => window.gossipLab.snapshot());
  assert.equal(snap.connected, true);
  const shown = snap.nodes.filter((n) => n.kind === 'native');
  assert.deepEqual(shown.map((n) => n.url).sort(), [...urls].sort(), 'the others found through GET /peers/');
  for (const n of shown) assert.ok(n.rtt_ms > 0 && n.rtt_ms < 2000 && n.status === 'reachable', JSON.stringify(n));
  assert.ok(snap.nodes.filter((n) => n.gateway).length === 3, 'three gateways by default');
  // the real-node panel is redrawn every 500 ms: wait for the redraw after the snapshot
  await page.waitForFunction((port) => document.querySelector('#real-status').textContent.includes('wall-clock speed')
    && document.querySelector('#natives').textContent.includes(`127.0.0.1:${port}`), ports[1], { timeout: 5_000 });
  // every update the natives hold is sealed; the page refused nothing and knows each native's key
  const stats0 = await page.evaluate(() => window.gossipLab.bridgeStats());
  assert.equal(stats0.unsigned + stats0.bad_signature + stats0.key_mismatch, 0, JSON.stringify(stats0));
  assert.ok(stats0.sealed > 0 && stats0.verified > 0 && stats0.refused === 0, JSON.stringify(stats0));
  const known = await page.evaluate(() => window.gossipLab.natives());
  for (const u of urls) {
    const s = await getJson(`${u}/state`);
    const unsigned = Object.entries(s.view).filter(([, e]) => !e.key).map(([o]) => o);
    assert.deepEqual(unsigned, [], `${u} holds unsigned updates`);
    assert.equal(known.find((n) => n.url === u).key, s.key, `the page knows ${u}'s key`);
  }
  await page.click(`#natives li[data-slot="${shown.find((n) => n.url === urls[1]).id}"]`);
  const firstKey = known.find((n) => n.url === urls[1]).key;
  await page.waitForFunction((k) => document.querySelector('#insp-body').textContent.includes(k.slice(0, 12)), firstKey, { timeout: 5_000 });
  await page.locator('#inspector').screenshot({ path: path.join(SHOTS, 'mixed-inspector.png') });
  await page.screenshot({ path: path.join(SHOTS, 'mixed.png') });

  // kill a native node: the page marks it unreachable, says so once, and the rest converge
  const victim = urls[2];
  nodes[2].kill('SIGKILL');
  await until('the killed node is marked unreachable', 20_000, async () => {
    const s = await page.evaluate(() => window.gossipLab.snapshot());
    const v = s.nodes.find((n) => n.url === victim);
    return v && v.status === 'unreachable' && !v.up;
  });
  const warned = await page.evaluate((v) => [...document.querySelectorAll('#notices li.warn')].filter((li) => li.textContent.includes(v)).length, victim);
  assert.equal(warned, 1, 'one notice about the dead node, not a flood');
  await until('the others still converge', 30_000, () => bothWays(page, urls.slice(0, 2)));
  const stats = await page.evaluate(() => window.gossipLab.bridgeStats());
  assert.ok(stats.failed >= 1 && stats.ok > 10, JSON.stringify(stats));
  await page.screenshot({ path: path.join(SHOTS, 'mixed-killed.png') });

  // one click disconnects; the real nodes stay drawn, not answering
  await page.click('#disconnect');
  const after = await page.evaluate(() => window.gossipLab.snapshot());
  assert.equal(after.connected, false);
  assert.ok(after.nodes.filter((n) => n.kind === 'native').every((n) => !n.up));
  assert.deepEqual(page.errors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED/.test(e)), []);
  await page.close();
});

test('native nodes never dial a browser-hosted identity', { timeout: 90_000 }, async () => {
  const ports = await freePorts(2);
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  ports.forEach((p) => native(p, ports[0]));
  await until('the native nodes answer', 15_000, async () => (await Promise.all(urls.map((u) => getJson(`${u}/state`)))).every(Boolean));
  const page = await openLab(suite.browser, suite.server.url, 'nodes=20&scenario=movies&model=events&duration_s=4&resample_ms=1000&seed=4');
  await page.evaluate((u) => window.gossipLab.connect(u), urls[0]);
  await until('favorites flow both ways', 60_000, () => bothWays(page, urls));
  await new Promise((r) => setTimeout(r, 2000)); // a few more gossip rounds with browser-origin updates around
  let outTotal = 0;
  for (const u of urls) {
    const metrics = await getText(`${u}/metrics`);
    const peers = [...metrics.matchAll(/^gossip_requests_out_total\{peer="([^"]*)"\} (\d+)$/gm)];
    assert.ok(peers.length > 0, `${u} made requests to its peer: ${metrics}`);
    for (const [, peer, n] of peers) {
      assert.ok(urls.includes(peer), `${u} dialed ${peer} (${n} requests): only native URLs may be dialed`);
      outTotal += Number(n);
    }
    assert.match(metrics, /^gossip_dials_refused_total 0$/m, 'the core never even asked to dial a browser');
    const s = await getJson(`${u}/state`);
    assert.ok([...s.peers, ...s.suspect].every((p) => urls.includes(p)), `peers of ${u}: ${s.peers}`);
    assert.ok(Object.keys(s.view).filter((k) => k.startsWith('browser-')).length === 20, 'every browser origin is in the view');
  }
  assert.ok(outTotal > 0);
  await page.close();
});

test('the page served by the demo command connects to its native nodes by itself', { timeout: 90_000 }, async () => {
  const [labPort] = await freePorts(1);
  const base = await freeRun(3);
  const cluster = spawn(BIN, ['cluster', '--nodes', '3', '--base-port', String(base), '--interval-ms', '300', '--www', WWW, '--www-port', String(labPort)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  cluster.stderr.on('data', (d) => { err += d; });
  procs.push(cluster);
  const lab = `http://127.0.0.1:${labPort}/`;
  await until(`the demo serves the lab (${err})`, 15_000, async () => (await getJson(`${lab}lab-config.json`))?.connect);
  const page = await suite.browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(lab); // no ?connect=: lab-config.json says where the nodes are
  await page.waitForFunction(() => window.gossipLab !== undefined, null, { timeout: 30_000 });
  await until('connected to the three local nodes', 30_000, () => page.evaluate(() => {
    const s = window.gossipLab.snapshot();
    return s.connected && s.nodes.filter((n) => n.kind === 'native' && n.up && n.movie).length === 3;
  }));
  assert.deepEqual(page.errors, []);
  await page.screenshot({ path: path.join(SHOTS, 'demo-connected.png') });
  await page.close();
  cluster.kill('SIGTERM');
});

/** The browser origins in `view` (an object keyed by origin), by page tag: `{ tag: count }`. */
function browserTags(view) {
  const tags = {};
  for (const o of Object.keys(view)) {
    const m = /^browser-([0-9a-f]+)-\d+$/.exec(o);
    if (m) tags[m[1]] = (tags[m[1]] || 0) + 1;
  }
  return tags;
}

/** What the last `viewsHoldOnly` saw, for the failure message. */
let lastViews = '';

/** Every native's view: its 3 natives and exactly `n` virtual nodes of the one page `tag`. */
async function viewsHoldOnly(urls, tag, n) {
  for (const u of urls) {
    const s = await getJson(`${u}/state`);
    if (!s) return false;
    const natives = Object.keys(s.view).filter((o) => o.startsWith('http://'));
    const tags = browserTags(s.view);
    lastViews = `${u}: ${natives.length} natives, browser tags ${JSON.stringify(tags)}, ${Object.keys(s.view).length} origins`;
    if (natives.length !== urls.length || Object.keys(tags).length !== 1 || tags[tag] !== n || Object.keys(s.view).length !== urls.length + n) return false;
  }
  return true;
}

test('reloads keep a tab\'s identity, and natives forget a closed tab\'s nodes: the views never grow', { timeout: 240_000 }, async () => {
  const ports = await freePorts(3);
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  // a short grace period, so that the test sees ghosts go
  ports.forEach((p) => native(p, ports[0], ['--forget-after', '6s']));
  await until('the native nodes answer', 15_000, async () => (await Promise.all(urls.map((u) => getJson(`${u}/state`)))).every(Boolean));
  // the page's nodes change favorites every 2 s: they are not silent
  const hash = 'nodes=20&scenario=movies&model=events&duration_s=6&resample_ms=2000&seed=5';
  const page = await openLab(suite.browser, suite.server.url, hash);
  await page.evaluate((u) => window.gossipLab.connect(u), urls[0]);
  await until('favorites flow both ways', 60_000, () => bothWays(page, urls));
  const tagOf = async () => {
    const snap = await page.evaluate(() => window.gossipLab.snapshot());
    const names = snap.nodes.filter((n) => n.kind === 'virtual').map((n) => /^browser-([0-9a-f]+)-/.exec(n.name || '')?.[1]);
    assert.equal(new Set(names).size, 1, JSON.stringify(names));
    return names[0];
  };
  const tag = await tagOf();

  for (let reload = 1; reload <= 3; reload++) {
    await page.reload();
    await page.waitForFunction(() => window.gossipLab !== undefined, null, { timeout: 30_000 });
    await page.evaluate((u) => window.gossipLab.connect(u), urls[0]);
    await until(`favorites flow both ways after reload ${reload}`, 60_000, () => bothWays(page, urls));
    assert.equal(await tagOf(), tag, `reload ${reload}: the same tab keeps its identity`);
  }
  // past the grace period, every native view and the page hold 3 natives + this page's 20 nodes
  await new Promise((r) => setTimeout(r, 7_000));
  await until('natives hold 3 natives and one page\'s 20 nodes', 15_000, () => viewsHoldOnly(urls, tag, 20)).catch((e) => assert.fail(`${e.message}: ${lastViews}`));
  const snap = await page.evaluate(() => window.gossipLab.snapshot());
  const kinds = {};
  for (const n of snap.nodes) kinds[n.kind] = (kinds[n.kind] || 0) + 1;
  assert.deepEqual(kinds, { virtual: 20, native: 3 }, JSON.stringify(kinds));
  assert.equal(await page.evaluate(() => window.gossipLab.foldedReal()), 0, 'three real nodes fit the column');

  // a new tab is a new identity; once the first tab closes, its nodes go from every native view
  const other = await openLab(suite.browser, suite.server.url, hash);
  await other.evaluate((u) => window.gossipLab.connect(u), urls[0]);
  await until('the new tab joins', 60_000, () => bothWays(other, urls));
  const snap2 = await other.evaluate(() => window.gossipLab.snapshot());
  const tag2 = /^browser-([0-9a-f]+)-/.exec(snap2.nodes.find((n) => n.kind === 'virtual').name)[1];
  assert.notEqual(tag2, tag, 'a new tab, a new identity');
  await page.close();
  const gone = await until('the closed tab\'s nodes are forgotten everywhere', 30_000, () => viewsHoldOnly(urls, tag2, 20)).catch((e) => assert.fail(`${e.message}: ${lastViews}`));
  console.log(`closed tab forgotten in ${gone} ms (grace 6 s)`);
  for (const u of urls) {
    const m = await getText(`${u}/metrics`);
    const forgotten = Number(/^gossip_origins_forgotten_total (\d+)$/m.exec(m)?.[1]);
    assert.ok(forgotten >= 20, `${u} forgot the closed tab's 20 nodes: ${forgotten}`);
  }
  // the surviving tab's column folds what does not fit: 20 other-page nodes + 3 natives on a short canvas
  await other.setViewportSize({ width: 1000, height: 420 });
  await other.waitForTimeout(1_500);
  const folded = await other.evaluate(() => window.gossipLab.foldedReal());
  const outside = (await other.evaluate(() => window.gossipLab.snapshot())).nodes.filter((n) => n.kind !== 'virtual').length;
  assert.ok(outside > 3, `the new tab knows the closed tab's nodes as remote: ${outside}`);
  assert.ok(folded > 0 && folded < outside, `the column folds the rows that do not fit: ${folded} of ${outside}`);
  await other.screenshot({ path: path.join(SHOTS, 'mixed-folded-column.png') });
  assert.deepEqual(other.errors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED/.test(e)), []);
  await other.close();
});
