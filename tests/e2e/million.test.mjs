// Big networks in the page: a single rumor past 20,000 nodes runs on the
// compact engine (as gossip sim chooses it) and ends with exactly the report
// `gossip sim --json` prints for the same parameters, at 100,000 nodes
// (push-pull, rounds; with seeking back and forth; Demers' rumor mongering,
// whose residue is gossip sim's) and at 1,000,000 nodes (push-pull). What a compact run
// does not keep (per-node details, who told whom, the trace) the page says
// plainly; the network is drawn as cells; runs the compact engine cannot
// take past 20,000 nodes are refused with the reason.
// Screenshots go to target/e2e/ (look at them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { SHOTS, openLab, BIN, labSuite, paintedPixels } from './harness.mjs';

const suite = labSuite({ bin: true });

function sim(args) {
  const flags = Object.entries(args).flatMap(([k, v]) => [`--${k.replace(/_/g, '-')}`, v]);
  return execFileSync(BIN, ['sim', ...flags, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim();
}

test('a 100,000-node push-pull run is compact in the page, seeks, and ends with the report gossip sim prints', async () => {
  const args = { nodes: '100000', protocol: 'push-pull', seed: '7' };
  const page = await openLab(suite.browser, suite.server.url, new URLSearchParams(args).toString());
  await page.evaluate(() => window.gossipLab.pause());
  assert.equal(await page.evaluate(() => window.gossipLab.engine()), 'compact');
  assert.equal(await page.evaluate(() => window.gossipLab.kind()), 'gossip');
  // forward to mid-spread, remember what the page shows, run on, seek back: the same
  const mid = await page.evaluate(() => { window.gossipLab.seek(5000); return { m: window.gossipLab.metrics(), s: window.gossipLab.snapshot() }; });
  assert.ok(mid.m.informed > 1 && mid.m.informed < 100000, `mid-spread at 5 s: ${mid.m.informed} informed`);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(SHOTS, 'million-100k-mid.png') });
  const pageReport = await page.evaluate(() => { window.gossipLab.runToEnd(); return window.gossipLab.reportJson(); });
  const native = sim(args);
  assert.equal(pageReport, native, 'wasm (compact, live) and gossip sim give the same report, byte for byte');
  assert.equal(JSON.parse(native).engine, 'compact');
  assert.equal(await page.evaluate(() => window.gossipLab.simCommand()), 'gossip sim --nodes 100000 --seed 7', 'the copied command runs the same engine (push-pull is the default)');
  const back = await page.evaluate(() => { window.gossipLab.seek(5000); return { m: window.gossipLab.metrics(), s: window.gossipLab.snapshot() }; });
  assert.deepEqual(back, mid, 'seeking back gives the state the run had at 5 s');
  // the chart has the rumor's curve, up to everyone
  const series = await page.evaluate(() => { window.gossipLab.runToEnd(); return window.gossipLab.series(); });
  const pts = series.curves[0].points;
  assert.ok(pts.length > 5 && pts[pts.length - 1][1] === 1, 'the curve reaches every node');
  await page.waitForTimeout(300);
  assert.match(await page.textContent('#counters'), /100,000/);
  assert.ok((await paintedPixels(page, 'net')) > 20000, 'the network is drawn (cells)');
  assert.ok((await paintedPixels(page, 'chart')) > 2000, 'the chart is drawn');
  // what a compact run does not keep is said, not shown empty
  await page.evaluate(() => window.gossipLab.select(12345));
  assert.match(await page.textContent('#insp-body'), /Node 12345: knows the rumor\. This run is on the compact engine/);
  await assert.rejects(page.evaluate(() => window.gossipLab.dissemination(0, '0.1')), /who told whom is not recorded: this run is on the compact engine/);
  await assert.rejects(page.evaluate(() => window.gossipLab.traceJson()), /no event trace: this run is on the compact engine/);
  assert.equal(await page.isDisabled('#trace'), true);
  await page.screenshot({ path: path.join(SHOTS, 'million-100k-end.png') });
  await page.close();
});

test('a 1,000,000-node push-pull run and a 100,000-node rumor mongering run in the page give gossip sim\'s reports (Karp, Demers)', async () => {
  for (const args of [{ nodes: '1000000', protocol: 'push-pull', seed: '2' }, { nodes: '100000', protocol: 'rumor', seed: '2' }]) {
    const page = await openLab(suite.browser, suite.server.url, new URLSearchParams(args).toString());
    await page.evaluate(() => window.gossipLab.pause());
    assert.equal(await page.evaluate(() => window.gossipLab.engine()), 'compact');
    const pageReport = await page.evaluate(() => { window.gossipLab.runToEnd(); return window.gossipLab.reportJson(); });
    const native = sim(args);
    assert.equal(pageReport, native, `${args.protocol}: the page's report is gossip sim's`);
    const r = JSON.parse(native);
    if (args.protocol === 'rumor') assert.ok(r.residue > 0 && r.residue < 0.2, `Demers' residue (some nodes never hear): ${r.residue}`);
    else assert.equal(r.stop_reason, 'converged');
    await page.waitForTimeout(400);
    assert.match(await page.textContent('#counters'), new RegExp(Number(args.nodes).toLocaleString('en-US')));
    await page.screenshot({ path: path.join(SHOTS, `million-${args.nodes}-${args.protocol}.png`) });
    await page.close();
  }
});

test('past 20,000 nodes, runs the compact engine cannot take are refused with the reason; 1,000 nodes stay on full nodes', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=1000');
  await page.evaluate(() => window.gossipLab.pause());
  assert.equal(await page.evaluate(() => window.gossipLab.engine()), 'full');
  for (const [params, message] of [
    [{ nodes: 30000, eager: 'on' }, /at most 20,000 nodes on full nodes; past that it runs a single rumor on the compact engine, which cannot run --eager on/],
    [{ nodes: 30000, engine: 'full' }, /at most 20,000 nodes on full nodes \(engine full\)/],
    [{ nodes: 2000000 }, /at most 1,000,000 nodes/],
  ]) {
    await assert.rejects(page.evaluate((p) => window.gossipLab.configure(p), params), message);
    assert.equal(await page.evaluate(() => window.gossipLab.engine()), 'full', 'the previous run stays');
  }
  await page.close();
});
