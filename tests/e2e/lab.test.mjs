// The browser lab end to end, in Debian's chromium: a seeded run to
// convergence that matches `gossip sim` byte for byte, the DOM and the
// canvas, node inspection and faults replayed from the URL, bad input, the
// form built from the parameter table (protocols, per-protocol fields, a
// preset opened by name), a 10,000-node run that never locks the tab, and
// the size of the package.
// Screenshots go to target/e2e/ (look at them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { WWW, SHOTS, openLab, BIN, labSuite, paintedPixels } from './harness.mjs';


const suite = labSuite();

test('a seeded run converges in the page with exactly the metrics gossip sim prints', async () => {
  const args = { nodes: '60', seed: '3', scenario: 'movies', model: 'events', duration_s: '15', loss: '0.05' };
  const page = await openLab(suite.browser, suite.server.url, new URLSearchParams(args).toString());
  await page.evaluate(() => window.gossipLab.setSpeed(10));
  await page.waitForTimeout(1500); // let it animate a little, then screenshot mid-run
  await page.screenshot({ path: path.join(SHOTS, 'lab-running.png') });
  const pageReport = await page.evaluate(() => { window.gossipLab.pause(); window.gossipLab.runToEnd(); return window.gossipLab.reportJson(); });
  const flags = Object.entries(args).flatMap(([k, v]) => [`--${k.replace(/_/g, '-')}`, v]);
  const native = execFileSync(BIN, ['sim', ...flags, '--engine', 'full', '--json'], { encoding: 'utf8' }).trim();
  assert.equal(pageReport, native, 'wasm and native give the same report, byte for byte');
  const report = JSON.parse(native);
  assert.equal(report.stop_reason, 'converged');

  const snap = await page.evaluate(() => window.gossipLab.snapshot());
  assert.equal(snap.converged, true);
  assert.equal(snap.time_ms, report.time_ms);
  assert.equal(snap.nodes.length, 60);
  for (const n of snap.nodes) {
    assert.equal(n.up_to_date, true);
    assert.equal(typeof n.movie, 'string');
    assert.ok(n.version >= 1);
  }
  await page.waitForTimeout(300); // a frame or two to draw the final state
  assert.match(await page.textContent('#state'), /converged/);
  const counters = await page.textContent('#counters');
  assert.match(counters, /up to date\s*60 \/ 60/);
  assert.match(counters, new RegExp(`messages\\s*${report.messages.toLocaleString('en-US')}`));
  assert.ok((await paintedPixels(page, 'net')) > 5000, 'the network canvas shows the nodes');
  assert.ok((await paintedPixels(page, 'chart')) > 2000, 'the chart is drawn');
  await page.screenshot({ path: path.join(SHOTS, 'lab-converged.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('clicking a node shows its view; its crash goes into the link, which replays the run', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=24&seed=5&scenario=movies&model=events&duration_s=12');
  await page.evaluate(() => { window.gossipLab.pause(); window.gossipLab.step(4000); });
  // click node 0 (top of the ring)
  const box = await page.locator('#net').boundingBox();
  const pos = await page.evaluate(() => {
    const c = document.getElementById('net').getBoundingClientRect();
    return { x: c.width / 2, y: 26 };
  });
  await page.mouse.click(box.x + pos.x, box.y + pos.y);
  await page.waitForSelector('#insp-body table');
  assert.match(await page.textContent('#insp-title'), /#0/);
  const rows = await page.locator('#insp-body tbody tr').count();
  assert.ok(rows >= 20, `node 0 knows most favorites after 4 s (${rows} rows)`);
  await page.screenshot({ path: path.join(SHOTS, 'lab-inspector.png'), fullPage: true });
  await page.click('#insp-body button[data-act="crash"]');
  await page.evaluate(() => window.gossipLab.step(2000));
  await page.click('#partition');
  await page.evaluate(() => window.gossipLab.step(3000));
  await page.click('#heal');
  assert.match(await page.textContent('#timeline'), /crash 0/);
  const hash = await page.evaluate(() => location.hash);
  const [, tCrash, tPart, tHeal] = hash.match(/faults=(\d+):crash:0,(\d+):partition:2,(\d+):heal/).map(Number);
  assert.equal(tPart - tCrash, 2000);
  assert.equal(tHeal - tPart, 3000);
  const first = await page.evaluate(() => JSON.stringify(window.gossipLab.runToEnd()));
  const again = await openLab(suite.browser, suite.server.url, hash.slice(1));
  const second = await again.evaluate(() => { window.gossipLab.pause(); return JSON.stringify(window.gossipLab.runToEnd()); });
  assert.equal(second, first, 'the shared link replays the same run');
  assert.deepEqual(page.errors, []);
  await page.close();
  await again.close();
});

test('bad input gives a clear message and leaves the page working', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=30&scenario=movies&model=events');
  await page.evaluate(() => window.gossipLab.pause());
  for (const [name, value, message] of [
    ['nodes', '0', /nodes must be between 2/],
    ['nodes', '1000000000', /nodes must be between 2 and 50000000/],
    ['nodes', '25000', /at most 20,000 nodes/],
    ['nodes', '5000', /movies scenario runs in the lab up to 2,000 nodes/],
    ['loss', '-0.2', /loss must be between 0 and 1/],
  ]) {
    await page.fill(`#params [name=${name}]`, value);
    await page.click('#params button[type=submit]');
    await page.waitForSelector('#banner:not([hidden])');
    assert.match(await page.textContent('#banner-text'), message);
    assert.equal(await page.getAttribute(`#params [name=${name}]`, 'class'), 'invalid');
    // the previous run is intact and still advances
    const t0 = await page.evaluate(() => window.gossipLab.snapshot().time_ms);
    const t1 = await page.evaluate(() => window.gossipLab.step(500));
    assert.equal(t1, t0 + 500);
    assert.equal(await page.evaluate(() => window.gossipLab.snapshot().nodes.length), 30);
    await page.fill(`#params [name=${name}]`, name === 'nodes' ? '30' : '0');
  }
  await page.screenshot({ path: path.join(SHOTS, 'lab-bad-input.png') });
  const err = await page.evaluate(() => { try { window.gossipLab.configure({ nodes: -5 }); return null; } catch (e) { return String(e.message); } });
  assert.match(err, /nodes/);
  await page.close();

  for (const hash of ['nodes=abc&scenario=movies', '%E0%A4%A', 'faults=1s:explode:3', '=&&=']) {
    const bad = await openLab(suite.browser, suite.server.url, hash);
    await bad.waitForSelector('#banner:not([hidden])');
    assert.match(await bad.textContent('#banner-text'), /link|scenario/i, hash);
    const snap = await bad.evaluate(() => window.gossipLab.snapshot());
    assert.equal(snap.nodes.length, 50, `${hash}: the default scenario runs instead`);
    assert.deepEqual(bad.errors, [], hash);
    await bad.close();
  }
});

test('the form comes from the parameter table: the registry protocols, their own fields, presets by name', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'preset=glomers');
  await page.evaluate(() => window.gossipLab.pause());
  const table = await page.evaluate(() => window.gossipLab.table());
  // the protocol list is the registry's, each with its summary as the title
  const options = await page.$$eval('#params [name=protocol] option', (os) => os.map((o) => [o.value, o.title]));
  assert.deepEqual(options, table.protocols.map((p) => [p.name, p.summary]));
  // every value the preset sets is in the form
  const glomers = table.presets.find((p) => p.name === 'glomers');
  assert.equal(await page.inputValue('#params [name=preset]'), 'glomers');
  for (const [name, value] of Object.entries(glomers.values)) {
    assert.equal(await page.inputValue(`#params [name=${name}]`), value, name);
  }
  assert.ok(await page.isVisible('#params [name=anti_entropy_ms]'), 'the more parameters open when a preset sets them');
  // fields only for the protocols that read them: rumor's stop rule, eager push for the others
  assert.ok(await page.isVisible('#params [name=counter]'));
  assert.ok(!(await page.isVisible('#params [name=eager]')), 'rumor refuses eager push: no field');
  await page.selectOption('#params [name=protocol]', 'push-pull');
  assert.ok(!(await page.isVisible('#params [name=counter]')) && (await page.isVisible('#params [name=eager]')));
  // the network's timing only for the events model, which reads it
  assert.ok(await page.isVisible('#params [name=latency_ms]'), 'glomers runs events: latency shown');
  await page.selectOption('#params [name=model]', 'rounds');
  assert.ok(!(await page.isVisible('#params [name=latency_ms]')) && !(await page.isVisible('#params [name=jitter_ms]')), 'rounds reads no latency');
  assert.ok(await page.isVisible('#params [name=loss]'), 'loss is read in rounds');
  assert.match(await page.textContent('#net-timing'), /events model only/);
  assert.ok(await page.isVisible('#net-timing'), 'rounds: the network box says where latency went');
  await page.selectOption('#params [name=model]', 'events');
  assert.ok(await page.isVisible('#params [name=latency_ms]'));
  assert.ok(!(await page.isVisible('#net-timing')));
  await page.selectOption('#params [name=protocol]', 'rumor');
  assert.match(await page.textContent('#theory-name'), /^mean-field rumor, n=25$/);
  await page.screenshot({ path: path.join(SHOTS, 'lab-preset-form.png'), fullPage: true });
  // Apply & restart keeps the preset: the same link, the same run as gossip sim --preset glomers
  await page.click('#params button[type=submit]');
  assert.equal(await page.evaluate(() => location.hash), '#preset=glomers');
  const pageReport = await page.evaluate(() => { window.gossipLab.pause(); window.gossipLab.runToEnd(); return window.gossipLab.reportJson(); });
  const native = execFileSync(BIN, ['sim', '--preset', 'glomers', '--engine', 'full', '--json'], { encoding: 'utf8' }).trim();
  assert.equal(pageReport, native, 'the preset in the page is the preset of gossip sim');
  // an error marks the field it names, wherever it is
  await page.fill('#params [name=rate]', '0');
  await page.click('#params button[type=submit]');
  await page.waitForSelector('#banner:not([hidden])');
  assert.match(await page.textContent('#banner-text'), /rate must be above 0/);
  assert.equal(await page.getAttribute('#params [name=rate]', 'class'), 'invalid');
  assert.equal((await page.getAttribute('#params [name=nodes]', 'class')) || '', '', 'only the field at fault is marked');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a link giving a rounds run a latency: the page runs without it (rounds reads none), and its command runs in gossip sim', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=40&model=rounds&latency_ms=300&jitter_ms=5&loss=0.1');
  const r = await page.evaluate(() => { const g = window.gossipLab; g.pause(); g.runToEnd(); return { cmd: g.simCommand(), report: g.reportJson(), scenario: g.scenario() }; });
  assert.ok(!('latency_ms' in r.scenario) && !('jitter_ms' in r.scenario), JSON.stringify(r.scenario));
  assert.equal(r.scenario.loss, '0.1');
  assert.doesNotMatch(r.cmd, /--latency|--jitter/);
  const native = execFileSync(BIN, [...r.cmd.split(' ').slice(1), '--json'], { encoding: 'utf8' }).trim();
  assert.equal(r.report, native, 'the command gives the page\'s report');
  // gossip sim refuses what the page drops
  assert.throws(() => execFileSync(BIN, ['sim', '--nodes', '40', '--latency-ms', '300'], { stdio: 'pipe' }), /rounds model/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a 10,000-node rounds run finishes in the page without locking the tab', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=10000&model=rounds&scenario=single&protocol=push-pull');
  const result = await page.evaluate(async () => {
    window.gossipLab.pause();
    window.gossipLab.configure({ nodes: 10000, model: 'rounds', scenario: 'single', protocol: 'push-pull' });
    window.gossipLab.setSpeed('max');
    window.gossipLab.play();
    let last = performance.now(), worst = 0, frames = 0;
    const start = last;
    const ended = () => /converged|limit|quiescent/.test(document.getElementById('state').textContent);
    while (!ended() && performance.now() - start < 60_000) {
      await new Promise((r) => requestAnimationFrame(r));
      const t = performance.now();
      worst = Math.max(worst, t - last);
      last = t;
      frames++;
    }
    return { worst, frames, ms: performance.now() - start, snap: window.gossipLab.snapshot() };
  });
  assert.equal(result.snap.stop_reason, 'converged');
  assert.equal(result.snap.nodes.length, 10000);
  assert.ok(result.frames > 3, `frames kept coming (${result.frames} in ${Math.round(result.ms)} ms)`);
  assert.ok(result.worst < 500, `no frame took longer than 0.5 s (worst ${Math.round(result.worst)} ms)`);
  await page.waitForTimeout(200);
  await page.screenshot({ path: path.join(SHOTS, 'lab-10k.png') });
  await page.close();
});

test('10,000 nodes are drawn as cells and flows; zooming in shows them one by one, to hover and inspect', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=10000&model=events&scenario=single&protocol=push-pull&faults=1500:partition:2');
  await page.evaluate(() => { window.gossipLab.pause(); window.gossipLab.step(4000); });
  const whole = await page.evaluate(() => window.gossipLab.zoom(1));
  assert.deepEqual(whole, { k: 1, lod: true });
  await page.evaluate(() => { window.gossipLab.setSpeed(1); window.gossipLab.play(); });
  await page.waitForTimeout(600); // a few frames, whatever the frame rate
  await page.evaluate(() => window.gossipLab.pause());
  await page.waitForTimeout(200);
  assert.ok((await paintedPixels(page, 'net')) > 50_000, 'the cells cover the disk');
  // every node is in one cell: the cells along a line through the centre hold about 8 nodes each
  const cells = await page.evaluate(() => {
    const c = document.getElementById('net').getBoundingClientRect();
    const out = [];
    for (let x = 0; x < c.width; x += 3) { const cell = window.gossipLab.cellAt(x, c.height / 2); if (cell) out.push(cell); }
    return out;
  });
  assert.ok(cells.length > 50, `cells across the disk (${cells.length})`);
  for (const cell of cells) assert.ok(cell.nodes >= 1 && cell.nodes <= 40 && cell.current + cell.down <= cell.nodes, JSON.stringify(cell));
  assert.ok(cells.some((c) => c.current > 0), 'some cells hold informed nodes after 4 s');
  await page.screenshot({ path: path.join(SHOTS, 'lab-10k-cells.png') });
  // hovering a cell says what it holds; clicking it zooms in to single nodes
  const box = await page.locator('#net').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForSelector('#hover:not([hidden])');
  assert.match(await page.textContent('#hover'), /nodes here/);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  const view = await page.evaluate(() => window.gossipLab.view());
  assert.ok(view.k > 1 && !view.lod, `zoomed in, nodes are drawn one by one (${JSON.stringify(view)})`);
  await page.waitForTimeout(300);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForSelector('#insp-body table', { timeout: 5000 });
  assert.match(await page.textContent('#insp-title'), /#\d+/);
  await page.screenshot({ path: path.join(SHOTS, 'lab-10k-zoomed.png') });
  await page.dblclick('#net', { position: { x: 5, y: 5 } });
  assert.deepEqual(await page.evaluate(() => window.gossipLab.view()), { k: 1, lod: true }, 'double-click goes back to the whole network');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the built package is under 300 KB gzipped', () => {
  let total = 0;
  for (const f of fs.readdirSync(path.join(WWW, 'pkg'))) {
    const p = path.join(WWW, 'pkg', f);
    if (fs.statSync(p).isFile()) total += zlib.gzipSync(fs.readFileSync(p), { level: 9 }).length;
  }
  assert.ok(total < 300 * 1024, `www/pkg is ${Math.round(total / 1024)} KB gzipped`);
});

test('flooding over everyone is refused past what the tab can hold, naming the most nodes; over an overlay it runs', async () => {
  // (1,000 nodes flooding the movies scenario put a billion messages in
  // flight at once: the tab ran out of memory, wasm's "unreachable")
  const page = await openLab(suite.browser, suite.server.url, 'nodes=50');
  await page.evaluate(() => window.gossipLab.pause());
  for (const [params, message] of [
    [{ nodes: 1000, scenario: 'movies', model: 'events', protocol: 'flood' }, /flooding over everyone .* it floods up to 159 nodes in this scenario\. Choose another protocol/],
    [{ nodes: 3000, model: 'events', protocol: 'flood' }, /it floods up to 2,000 nodes in this scenario\. Choose an overlay membership/],
  ]) {
    await assert.rejects(page.evaluate((p) => window.gossipLab.configure(p), params), message);
    assert.equal(Number(await page.evaluate(() => window.gossipLab.params().nodes)), 50, 'the previous run stays');
  }
  const r = await page.evaluate(() => {
    window.gossipLab.configure({ nodes: 159, scenario: 'movies', model: 'events', protocol: 'flood', duration_s: 4 });
    return window.gossipLab.runToEnd();
  });
  assert.equal(r.stop_reason, 'converged');
  const ring = await page.evaluate(() => {
    window.gossipLab.configure({ nodes: 3000, model: 'events', protocol: 'flood', membership: 'ring' });
    return window.gossipLab.runToEnd();
  });
  assert.ok(ring.informed === 3000 && ring.messages < 3000 * 4, `over a ring, flooding is a few messages a node (${ring.messages}, ${ring.informed} informed)`);
  assert.deepEqual(page.errors, []);
  await page.close();
});
