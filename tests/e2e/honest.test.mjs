// Honest counters and exports, in Debian's chromium: messages lost to loss
// and cut by a partition counted apart (a partition with loss 0 loses
// nothing), the partition figures of `gossip sim` on the page, uninformed
// nodes drawn in their own colour (not the down grey) with a legend entry,
// "copy as gossip sim" giving the command whose report is the page's (faults
// applied from the page included), the chart as a PNG, and "Copy link"
// saying that only the virtual part replays while a real node takes part.
// Screenshots go to target/e2e/honest-*.png (look at them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { SHOTS, openLab, freeRun, BIN, labSuite } from './harness.mjs';

const procs = [];

const suite = labSuite({
  bin: true,
  cleanup: async () => {
    for (const p of procs) p.kill('SIGKILL');
  },
});

/** The counters as the page shows them: label (lower case) -> text. */
function counters(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#counters .counter')].map((c) => [c.querySelector('.k').textContent.toLowerCase(), c.querySelector('.v').textContent])));
}

/** Run a copied `gossip sim` command natively (through sh, so its quoting is tested too), with `--json`. */
function runCommand(cmd) {
  assert.match(cmd, /^gossip sim /);
  return execFileSync('sh', ['-c', `'${BIN}' ${cmd.slice('gossip '.length)} --json`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const fmtMs = (x) => (x < 1000 ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(2)} s`);

test('a partition with loss 0 loses no message: its drops are counted as cut, with the partition figures of gossip sim', async () => {
  const hash = 'nodes=40&seed=5&scenario=movies&model=events&duration_s=20&faults=2000:partition:2,7000:heal';
  const page = await openLab(suite.browser, suite.server.url, hash);
  const before = await counters(page);
  assert.equal(before.partitions, undefined, 'no partition figures before a partition');
  const report = await page.evaluate(() => { window.gossipLab.pause(); return window.gossipLab.runToEnd(); });
  await page.waitForTimeout(300);
  const c = await counters(page);
  await page.locator('.charts').screenshot({ path: path.join(SHOTS, 'honest-partition.png') });
  assert.equal(report.lost_messages, 0);
  assert.ok(report.partitioned_messages > 100, `the partition cut messages: ${report.partitioned_messages}`);
  assert.equal(c['msgs lost'], '0', 'loss 0: nothing lost');
  assert.equal(c['cut by partition'], fmt(report.partitioned_messages));
  const p = report.partition;
  assert.ok(p && p.partitions === 1 && p.updates_caught > 0, JSON.stringify(p));
  assert.equal(c.partitions, '1');
  assert.equal(c['updates caught'], fmt(p.updates_caught));
  assert.equal(c['clear p50'], fmtMs(p.latency_ms_clear.median));
  assert.equal(c['caught max'], fmtMs(p.latency_ms_caught.max));
  assert.equal(c['repair after heal'], fmtMs(p.repair_ms));
  // and gossip sim agrees: the same figures, its summary with lost and cut apart
  const cmd = await page.evaluate(() => window.gossipLab.simCommand());
  assert.equal(runCommand(cmd), await page.evaluate(() => window.gossipLab.reportJson()));
  const text = execFileSync('sh', ['-c', `'${BIN}' ${cmd.slice('gossip '.length)}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(text, new RegExp(` 0 lost, ${report.partitioned_messages} cut by partitions`));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('random loss is counted as lost, not as cut', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=30&seed=2&scenario=movies&model=events&duration_s=10&loss=0.2');
  const report = await page.evaluate(() => { window.gossipLab.pause(); return window.gossipLab.runToEnd(); });
  await page.waitForTimeout(300);
  const c = await counters(page);
  assert.ok(report.lost_messages > 0 && report.partitioned_messages === 0);
  assert.equal(c['msgs lost'], fmt(report.lost_messages));
  assert.equal(c['cut by partition'], '0');
  assert.equal(c.partitions, undefined, 'no partition: no partition figures');
  await page.close();
});

test('uninformed nodes of the single rumor are drawn in their own colour, not the down grey, and the legend says so', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=40&seed=3&scenario=single&model=events&interval_ms=1000&faults=10:crash:7', { width: 1440, height: 900 });
  // no messages drawn over the nodes
  await page.evaluate(() => { window.gossipLab.pause(); window.gossipLab.showMessages(false); window.gossipLab.step(1500); });
  await page.waitForTimeout(300); // a frame draws the paused state
  const shown = await page.evaluate(() => [...document.querySelectorAll('.legend span')].filter((s) => s.offsetParent).map((s) => s.textContent.trim()));
  assert.ok(shown.includes('not informed yet'), `legend: ${shown}`);
  assert.ok(!shown.includes('behind'), `the single rumor has no "behind": ${shown}`);
  // nor has the status while it runs
  const pill = await page.evaluate(async () => {
    window.gossipLab.play();
    await new Promise((r) => setTimeout(r, 300));
    const text = document.getElementById('state').textContent;
    window.gossipLab.pause();
    return text;
  });
  assert.match(pill, /^running · \d+ not informed/, `status: ${pill}`);
  const snap = await page.evaluate(() => window.gossipLab.snapshot());
  const uninformed = snap.nodes.filter((n) => n.up && !n.up_to_date).map((n) => n.id);
  assert.ok(uninformed.length > 0, 'some nodes are not informed yet');
  assert.ok(!snap.nodes[7].up, 'node 7 is down');
  // the colour of each node's disk, at four points around its centre (its label is at the centre)
  const colours = await page.evaluate((ids) => {
    const b = window.gossipLab.layoutBoxes();
    const c = document.getElementById('net');
    const ctx = c.getContext('2d');
    const k = c.width / b.canvas.width;
    const at = (i) => {
      const n = b.nodes.find((m) => m.i === i);
      return [[-1, 0], [1, 0], [0, -1], [0, 1]].map(([dx, dy]) => {
        const d = ctx.getImageData(Math.round((n.x - b.canvas.left + dx * n.r * 0.72) * k), Math.round((n.y - b.canvas.top + dy * n.r * 0.72) * k), 1, 1).data;
        return [d[0], d[1], d[2]];
      });
    };
    return { uninformed: ids.map(at), down: at(7) };
  }, uninformed);
  await page.screenshot({ path: path.join(SHOTS, 'honest-uninformed.png') });
  const near = (c, hex) => { const v = parseInt(hex.slice(1), 16); return Math.abs(c[0] - (v >> 16)) + Math.abs(c[1] - ((v >> 8) & 255)) + Math.abs(c[2] - (v & 255)) < 40; };
  const mostly = (cs, hex) => cs.filter((c) => near(c, hex)).length >= 3;
  for (const cs of colours.uninformed) {
    assert.ok(mostly(cs, '#a78bfa'), `an uninformed node is drawn ${JSON.stringify(cs)}, not the uninformed violet`);
    assert.ok(!cs.some((c) => near(c, '#394152')), 'an uninformed node is not drawn in the down grey');
  }
  assert.ok(mostly(colours.down, '#394152'), `a down node keeps the down grey: ${JSON.stringify(colours.down)}`);
  await page.close();
});

test('"copy as gossip sim" gives the command whose report is the page\'s, faults applied in the page included', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=30&seed=9&scenario=movies&model=events&duration_s=25&jitter_ms=25');
  await page.evaluate(() => {
    const g = window.gossipLab;
    g.pause();
    g.step(2500); g.fault('crash:4');
    g.step(1000); g.fault('partition:3');
    g.step(3000); g.fault('heal');
    g.step(500); g.fault('restart-fresh:4');
    g.step(500); g.fault('loss:0.1');
  });
  const copied = await page.evaluate(() => window.gossipLab.copy('command'));
  assert.match(copied.text, /--fault \d+:crash:4 --fault \d+:partition:3 --fault \d+:heal --fault \d+:restart-fresh:4 --fault \d+:loss:0.1/);
  assert.match(copied.text, /--engine full/);
  assert.match(copied.note, /Command copied/);
  const page_report = await page.evaluate(() => { window.gossipLab.runToEnd(); return window.gossipLab.reportJson(); });
  assert.equal(runCommand(copied.text), page_report, 'the command prints the page\'s report, byte for byte');
  // the button copies the same command and says so
  await page.click('#copy-cmd');
  await page.waitForFunction(() => !document.getElementById('banner').hidden);
  assert.match(await page.textContent('#banner-text'), /Command copied/);
  await page.close();
});

test('the chart downloads as a PNG of the chart, named after the scenario', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=40&seed=1&scenario=movies&model=events&protocol=push&fanout=3');
  await page.evaluate(() => window.gossipLab.setSpeed(10));
  await page.waitForTimeout(1500);
  const url = await page.evaluate(() => window.gossipLab.chartPng());
  const png = Buffer.from(url.replace(/^data:image\/png;base64,/, ''), 'base64');
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  const [w, h] = [png.readUInt32BE(16), png.readUInt32BE(20)];
  const canvas = await page.evaluate(() => { const c = document.getElementById('chart'); return [c.width, c.height]; });
  assert.equal(w, canvas[0]);
  assert.ok(h > canvas[1] && h < canvas[1] + 60, `the chart and a title line: ${h} px for a ${canvas[1]} px chart`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#chart-png')]);
  assert.match(download.suggestedFilename(), /^gossip-chart-push-movies-nodes40-fanout3-loss0-seed1\.png$/);
  const file = path.join(SHOTS, 'honest-chart.png');
  await download.saveAs(file);
  assert.equal(fs.readFileSync(file).subarray(1, 4).toString(), 'PNG');
  await page.close();
});

test('"Copy link" says it replays the exact run offline, and only the virtual part while a real node takes part', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=12&seed=1&scenario=movies&model=events');
  const offline = await page.evaluate(() => window.gossipLab.copy('link'));
  assert.match(offline.note, /replays this exact run/);
  assert.match(offline.text, /#.*seed=|#.*nodes=12/);
  const port = await freeRun(1);
  const p = spawn(BIN, ['-p', String(port), '--interval-ms', '300'], { stdio: ['ignore', 'ignore', 'ignore'] });
  procs.push(p);
  const t0 = Date.now();
  for (;;) {
    try { if ((await fetch(`http://127.0.0.1:${port}/state`, { signal: AbortSignal.timeout(1000) })).ok) break; } catch { /* not up yet */ }
    assert.ok(Date.now() - t0 < 15000, 'the native node answers within 15 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  await page.evaluate((u) => window.gossipLab.connect(u), `http://127.0.0.1:${port}`);
  await page.waitForFunction(() => window.gossipLab.natives().some((n) => n.status === 'reachable'), null, { timeout: 15000 });
  const online = await page.evaluate(() => window.gossipLab.copy('link'));
  assert.match(online.note, /replays only the virtual part/);
  assert.match(online.note, /1 real node\b/);
  const cmd = await page.evaluate(() => window.gossipLab.copy('command'));
  assert.match(cmd.note, /replays only the virtual part/);
  await page.click('#copy-link');
  await page.waitForFunction(() => /only the virtual part/.test(document.getElementById('banner-text').textContent));
  await page.screenshot({ path: path.join(SHOTS, 'honest-copy-link-connected.png') });
  await page.evaluate(() => window.gossipLab.disconnect());
  p.kill('SIGKILL');
  await page.close();
});
