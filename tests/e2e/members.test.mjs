// SWIM, HyParView and Plumtree in the browser lab, in Debian's chromium:
// each kind of run ends with exactly the report `gossip sim --json` prints
// (a SWIM run with a crash, HyParView + Plumtree, a static ring + Plumtree);
// SWIM chosen in the form, a node crashed from the inspector, and the
// selected member's view showing it suspect, then dead, while the counters
// move; Plumtree's eager links forming a tree (n - 1 links spanning the up
// nodes) that repairs after a tree node crashes.
// Screenshots go to target/e2e/ at 1440 x 900 (look at them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { SHOTS, openLab, BIN, labSuite } from './harness.mjs';

const VIEW = { width: 1440, height: 900 };

const suite = labSuite();

/** `gossip sim --json --engine full` for the page's parameters (`faults` is the repeatable `--fault`). */
function sim(args) {
  const flags = Object.entries(args).flatMap(([k, v]) => (k === 'faults' ? v.split(',').flatMap((f) => ['--fault', f]) : [`--${k.replace(/_/g, '-')}`, v]));
  return execFileSync(BIN, ['sim', ...flags, '--engine', 'full', '--json'], { encoding: 'utf8' }).trim();
}

test('SWIM, HyParView + Plumtree and a static ring give the page exactly the report gossip sim prints', async () => {
  const configs = [
    { membership: 'swim', nodes: '50', seed: '7', model: 'events', duration_s: '40', lifeguard: 'on', loss: '0.02', faults: '5s:crash:3,12s:crash:20' },
    { membership: 'hyparview', protocol: 'plumtree', scenario: 'broadcast', nodes: '80', seed: '4', model: 'events', warmup_cycles: '10', duration_s: '30', faults: '18s:crash:11' },
    { membership: 'ring', degree: '4', protocol: 'plumtree', scenario: 'single', nodes: '60', seed: '2', model: 'rounds' },
  ];
  for (const args of configs) {
    const page = await openLab(suite.browser, suite.server.url, new URLSearchParams(args).toString(), VIEW);
    const kind = await page.evaluate(() => window.gossipLab.kind());
    assert.equal(kind, args.membership === 'swim' ? 'swim' : 'overlay');
    const pageReport = await page.evaluate(() => { window.gossipLab.pause(); window.gossipLab.runToEnd(); return window.gossipLab.reportJson(); });
    assert.equal(pageReport, sim(args), `${args.membership}: wasm and native give the same report, byte for byte`);
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

test('SWIM in the form: a node crashed from the inspector turns suspect, then dead, in the selected member\'s view', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=40&seed=3&scenario=movies', VIEW);
  // choose SWIM: the form fits the scenario to it and shows SWIM's own fields
  await page.selectOption('select[name=membership]', 'swim');
  assert.equal(await page.inputValue('select[name=scenario]'), 'single');
  assert.equal(await page.isVisible('select[name=protocol]'), false, 'SWIM spreads no rumor: no protocol field');
  await page.click('#more-params summary');
  assert.equal(await page.isVisible('input[name=probe_interval_ms]'), true);
  // Lifeguard's fields only with the Lifeguard part that reads them, the suspicion timeout only with suspicion
  const shown = async () => Object.fromEntries(await Promise.all(['awareness_max', 'suspicion_max_mult', 'suspicion_mult'].map(async (n) => [n, await page.isVisible(`input[name=${n}]`)])));
  assert.deepEqual(await shown(), { awareness_max: false, suspicion_max_mult: false, suspicion_mult: true }, 'Lifeguard off');
  await page.selectOption('select[name=lifeguard]', 'health');
  assert.deepEqual(await shown(), { awareness_max: true, suspicion_max_mult: false, suspicion_mult: true }, 'its health part');
  await page.selectOption('select[name=lifeguard]', 'on');
  assert.deepEqual(await shown(), { awareness_max: true, suspicion_max_mult: true, suspicion_mult: true }, 'Lifeguard on');
  await page.selectOption('select[name=lifeguard]', 'health'); // (its suspicion part needs suspicion on)
  await page.selectOption('select[name=suspicion]', 'off');
  assert.deepEqual(await shown(), { awareness_max: true, suspicion_max_mult: false, suspicion_mult: false }, 'no suspicion');
  await page.selectOption('select[name=suspicion]', 'on');
  await page.selectOption('select[name=lifeguard]', 'off');
  await page.fill('input[name=duration_s]', '120');
  await page.click('#params button[type=submit]');
  assert.equal(await page.evaluate(() => window.gossipLab.kind()), 'swim');
  await page.evaluate(() => { const L = window.gossipLab; L.pause(); L.step(4000); L.select(7); });
  assert.match(await page.textContent('#insp-body'), /incarnation/);
  await page.click('#insp-body button[data-act=crash]');
  const seen = await page.evaluate(() => {
    const L = window.gossipLab;
    L.select(0);
    const crashAt = L.metrics().time_ms;
    let suspect = null, dead = null, counted = 0;
    for (let t = 0; t < 60000 && dead === null; t += 250) {
      L.step(250);
      const v = L.memberView(0);
      if (suspect === null && v.suspect.includes(7)) suspect = L.metrics().time_ms - crashAt;
      if (v.dead.includes(7)) dead = L.metrics().time_ms - crashAt;
      counted = Math.max(counted, L.suspects()[7]);
    }
    return { suspect, dead, counted, others: L.suspects().filter((c, i) => i !== 7 && c > 0).length, m: L.metrics() };
  });
  assert.ok(seen.suspect !== null && seen.suspect < 15000, `member 0 suspects node 7 (after ${seen.suspect} ms)`);
  assert.ok(seen.dead !== null && seen.dead > seen.suspect, `then declares it dead (after ${seen.dead} ms)`);
  assert.ok(seen.counted >= 10, `many members suspected it at once (at most ${seen.counted})`);
  assert.equal(seen.others, 0, 'no live member is suspected');
  assert.equal(seen.m.false_positives, 0);
  assert.ok(seen.m.suspicions > 0);
  assert.equal(seen.m.detection.crashed, 1);
  assert.ok(seen.m.detection.first_ms.mean > 0);
  await page.evaluate(() => { window.gossipLab.select(0); window.gossipLab.step(100); });
  await page.waitForTimeout(400);
  const counters = await page.textContent('#counters');
  assert.match(counters, /crashes detected\s*1 \/ 1/);
  assert.match(counters, new RegExp(`suspicions\\s*${seen.m.suspicions}`));
  assert.match(counters, /false positives\s*0/);
  assert.match(await page.textContent('#insp-body'), /1 dead/);
  assert.match(page.url(), /faults=[0-9]+:crash:7/, 'the crash is in the link');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(200);
  await page.screenshot({ path: path.join(SHOTS, 'swim-dead.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('Plumtree over HyParView: the eager links form a tree, and it repairs after a tree node crashes', async () => {
  const args = { membership: 'hyparview', protocol: 'plumtree', scenario: 'broadcast', senders: '1', nodes: '60', seed: '3', model: 'rounds', warmup_cycles: '10', duration_s: '60' };
  const page = await openLab(suite.browser, suite.server.url, new URLSearchParams(args).toString(), VIEW);
  const t = await page.evaluate(() => { const L = window.gossipLab; L.pause(); L.step(20000); return L.tree(); });
  assert.equal(t.nodes_up, 60);
  assert.equal(t.eager_edges, 59, 'n - 1 eager links');
  assert.ok(t.spanning && t.tree, 'they connect every node: a spanning tree');
  assert.ok(t.lazy_edges > 0, 'the other overlay links stay lazy');
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(SHOTS, 'plumtree-tree.png') });
  // crash an inner node of the tree (seed 3's sender is not this one: the
  // run is deterministic, and the Rust tests cover other seeds)
  const deg = new Map();
  for (const [a, b] of t.edges) for (const x of [a, b]) deg.set(x, (deg.get(x) || 0) + 1);
  const inner = [...deg.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0][0];
  assert.ok(deg.get(inner) >= 2);
  const after = await page.evaluate((inner) => {
    const L = window.gossipLab;
    L.fault(`crash:${inner}`);
    L.step(20000);
    return { ...L.tree(), m: L.metrics() };
  }, inner);
  assert.equal(after.nodes_up, 59);
  assert.ok(after.spanning && after.tree, `the tree spans the 59 up nodes again (${after.eager_edges} eager links)`);
  const old = new Set(t.edges.map(([a, b]) => `${a}-${b}`));
  const grafted = after.edges.filter(([a, b]) => !old.has(`${a}-${b}`));
  assert.ok(grafted.length >= deg.get(inner) - 1, `new tree links join the parts the crash cut (${grafted.length})`);
  assert.ok(after.m.reliability.min < 1 || after.m.control_messages > 0);
  assert.ok(after.m.rmr !== null && after.m.ldh !== null);
  await page.waitForTimeout(400);
  const counters = await page.textContent('#counters');
  assert.match(counters, /eager links \(tree\)\s*58 · a tree/);
  assert.match(counters, /rmr/);
  await page.screenshot({ path: path.join(SHOTS, 'plumtree-repaired.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});
