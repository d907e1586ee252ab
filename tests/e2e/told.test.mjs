// Who told whom, in Debian's chromium: window.gossipLab.dissemination()
// has one first delivery per informed node (none to the origin), each a hop
// past its sender's, and a flood over a static line has hop counts equal to
// the distance from the origin; the inspector says "learned from #j (hop h)"
// for each entry of a node's view and draws the selected update's tree; a
// message in flight, clicked, shows what it carries and, dropped, goes into
// the link as `drop:FROM>TO` and replays. Screenshots go to target/e2e/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHOTS, openLab, labSuite } from './harness.mjs';

const VIEW = { width: 1440, height: 900 };

const suite = labSuite();

/** A lab page at 1440x900, paused, running `params` (what `gossipLab.configure` takes). */
async function labWith(params) {
  const page = await openLab(suite.browser, suite.server.url, '', VIEW);
  await page.evaluate((p) => {
    window.gossipLab.pause();
    window.gossipLab.configure(p);
  }, params);
  return page;
}

test('dissemination() has one first delivery per informed node, each a hop past its sender', async () => {
  const page = await labWith({ nodes: 40, model: 'events', scenario: 'movies', duration_s: 8, seed: 3 });
  const r = await page.evaluate(() => {
    const lab = window.gossipLab;
    lab.step(6000);
    const snap = lab.snapshot();
    const out = [];
    // every node's own current update
    for (const n of snap.nodes) {
      if (!n.version) continue;
      const v = n.epoch ? `${n.epoch}.${n.version}` : n.version;
      const edges = lab.dissemination(n.id, v);
      const informed = snap.nodes.filter((m) => m.id !== n.id && lab.detail(m.id).view.some((row) => row.origin === n.id && row.epoch === n.epoch && row.version === n.version)).map((m) => m.id);
      out.push({ origin: n.id, edges, informed });
    }
    let error = null;
    try { lab.dissemination(0, '999.1'); } catch (e) { error = String(e.message || e); }
    return { out, error };
  });
  assert.ok(r.out.length > 20, `${r.out.length} updates`);
  let dups = 0;
  for (const { origin, edges, informed } of r.out) {
    for (const e of edges) {
      assert.deepEqual(Object.keys(e).sort(), ['duplicate', 'from', 'hop', 't_ms', 'to']);
      assert.equal(typeof e.duplicate, 'boolean');
    }
    const first = edges.filter((e) => !e.duplicate);
    dups += edges.length - first.length;
    const to = first.map((e) => e.to);
    assert.equal(new Set(to).size, to.length, `update of ${origin}: a node learned it twice`);
    assert.ok(!to.includes(origin), 'the origin is not told its own update');
    assert.deepEqual([...to].sort((a, b) => a - b), [...informed].sort((a, b) => a - b), `update of ${origin}: exactly the informed nodes`);
    const hop = new Map([[origin, 0], ...first.map((e) => [e.to, e.hop])]);
    for (const e of first) assert.equal(e.hop, hop.get(e.from) + 1, `update of ${origin}: #${e.to} told by #${e.from}`);
  }
  assert.ok(dups > 0, 'push-pull with eager push has duplicates');
  assert.match(r.error, /no deliveries/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a flood over a static line: hop counts are the distances from the origin', async () => {
  const page = await labWith({ nodes: 25, model: 'rounds', scenario: 'single', protocol: 'flood', membership: 'line' });
  const edges = await page.evaluate(() => {
    const lab = window.gossipLab;
    lab.runToEnd();
    return lab.dissemination(0, '1');
  });
  const first = edges.filter((e) => !e.duplicate);
  assert.equal(first.length, 24);
  for (const e of first) assert.equal(e.hop, e.to, `node ${e.to} is ${e.to} links from node 0`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the inspector says who told each entry, and the selected update is drawn', async () => {
  const page = await labWith({ nodes: 20, model: 'events', scenario: 'movies', duration_s: 8, seed: 5 });
  const row = await page.evaluate(() => {
    const lab = window.gossipLab;
    lab.step(5000);
    lab.select(7);
    const d = lab.detail(7);
    return d.view.find((r) => r.origin !== 7 && r.from !== undefined);
  });
  assert.ok(row, 'node 7 learned something from another node');
  const cell = await page.textContent(`#insp-body tr[data-origin="${row.origin}"] td.from`);
  assert.equal(cell.trim(), `#${row.from} (hop ${row.hop})`);
  await page.click(`#insp-body tr[data-origin="${row.origin}"]`);
  await page.waitForSelector('#told:not([hidden]) canvas');
  const sum = await page.textContent('#told-sum');
  assert.match(sum, /nodes told .* duplicates .* deepest hop \d+ · space-time diagram/);
  await page.screenshot({ path: path.join(SHOTS, 'told-1440x900.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a message in flight shows what it carries; dropped, it goes into the link and replays', async () => {
  const page = await labWith({ nodes: 30, model: 'events', scenario: 'movies', duration_s: 6, seed: 2, latency_ms: 200 });
  const picked = await page.evaluate(() => {
    const lab = window.gossipLab;
    // step until a message carrying updates is in flight
    for (let k = 0; k < 200; k++) {
      lab.step(37);
      for (const [from, to] of lab.flightsNow()) {
        const msgs = lab.inFlight(from, to);
        if (msgs.some((m) => m.updates.length)) return { from, to, msgs, now: lab.snapshot().time_ms };
      }
    }
    return null;
  });
  assert.ok(picked, 'a message carrying updates flew');
  const m = picked.msgs.find((x) => x.updates.length);
  assert.ok(['push', 'delta'].includes(m.kind));
  assert.ok(m.bytes > 50 && m.arrives > picked.now);
  for (const u of m.updates) assert.ok(u.origin < 30 && u.counter >= 1 && u.ttl >= 0);
  await page.evaluate(({ from, to }) => window.gossipLab.inspectFlight(from, to), picked);
  assert.match(await page.textContent('#insp-title'), new RegExp(`#${picked.from} → #${picked.to}`));
  assert.match(await page.textContent('#insp-body'), /bytes/);
  await page.screenshot({ path: path.join(SHOTS, 'told-flight-1440x900.png') });
  await page.click('#drop-flight');
  assert.match(await page.textContent('#dropped-note'), new RegExp(`drop:${picked.from}>${picked.to}`));
  const after = await page.evaluate(({ from, to }) => ({ step: window.gossipLab.step(1), inFlight: window.gossipLab.inFlight(from, to).length, hash: location.hash, scenario: window.gossipLab.scenario() }), picked);
  assert.equal(after.inFlight, 0, 'the dropped messages no longer fly');
  assert.match(after.scenario.faults, new RegExp(`\\d+:drop:${picked.from}>${picked.to}`));
  assert.match(decodeURIComponent(after.hash), new RegExp(`drop:${picked.from}>${picked.to}`));
  const first = await page.evaluate(() => JSON.stringify(window.gossipLab.runToEnd()));
  const again = await openLab(suite.browser, suite.server.url, after.hash.slice(1), VIEW);
  const second = await again.evaluate(() => { window.gossipLab.pause(); return JSON.stringify(window.gossipLab.runToEnd()); });
  assert.equal(second, first, 'the link replays the run with the message dropped');
  assert.ok(JSON.parse(first).lost_messages >= picked.msgs.length, 'the dropped messages count as lost');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(again.errors, []);
  await page.close();
  await again.close();
});
