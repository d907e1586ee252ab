// The sweep viewer (www/sweep.html) end to end, in Debian's chromium: a
// small sweep made by the native binary is opened with the file picker, by a
// drop and through ?csv=URL; its table has a row per run, its plot a line per value
// of the other varied parameter, and its means and intervals equal the
// sweep's own NAME.summary.csv; a row clicked opens the lab on that
// configuration and seed, whose report equals the row's metrics; a row the
// lab cannot run says why; bad CSVs get a clear message; the plot exports as
// SVG and PNG. The viewer's data module is also checked directly in node.
// Screenshots go to target/e2e/ (look at them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { WWW, SHOTS, BIN, labSuite } from './harness.mjs';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'gossip-sweep-e2e-'));
const CSV = path.join(DIR, 'fanout.csv');
const BIG = path.join(DIR, 'big.csv');
// the viewer's data module, as the page loads it (www/ is no node package: import a copy as .mjs)
fs.copyFileSync(path.join(WWW, 'sweepdata.js'), path.join(DIR, 'sweepdata.mjs'));
const { parseCsv, analyze, summary, tQuantile975, SweepInputError } = await import(path.join(DIR, 'sweepdata.mjs'));

const suite = labSuite({
  bin: true,
  setup: async () => {
    // 2 protocols x 3 fanouts x 3 seeds, with 5 % loss so the seeds differ
    execFileSync(BIN, ['sweep', '--nodes', '40', '--model', 'events', '--loss', '0.05', '--vary', 'protocol=push,push-pull',
      '--vary', 'fanout=1:3', '--seeds', '3', '--threads', '1', '-q', '-o', CSV], { stdio: ['ignore', 'ignore', 'inherit'] });
    // runs the lab cannot show: more nodes than its limit
    execFileSync(BIN, ['sweep', '--nodes', '2000000', '--seeds', '2', '--threads', '1', '-q', '-o', BIG], { stdio: ['ignore', 'ignore', 'inherit'] });
  },
  cleanup: async () => {
    fs.rmSync(DIR, { recursive: true, force: true });
  },
});

/** The viewer, ready; console errors collected in page.errors. */
async function openViewer(query = '') {
  const page = await suite.browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  await page.goto(`${suite.server.url}sweep.html${query}`);
  await page.waitForFunction(() => document.documentElement.dataset.ready === '1', null, { timeout: 30_000 });
  return page;
}

/**
 * Open row `i` of the sweep shown in `page` in the lab, run it to its end,
 * and check that the lab writes back the row's link and that its report
 * equals the row's metrics (every metric column and stop_reason; not
 * report.engine: the lab always holds full nodes, which run the same run).
 * Returns the lab's report flattened and how many columns were compared.
 */
async function replayEqualsRow(page, i, sweep) {
  const row = await page.evaluate((i) => window.sweepView.row(i), i);
  assert.ok(row.lab.href, `run ${i} links to the lab (${row.lab.why})`);
  const lab = await suite.browser.newPage();
  lab.errors = [];
  lab.on('pageerror', (e) => lab.errors.push(String(e)));
  await lab.goto(`${suite.server.url}${row.lab.href}`);
  await lab.waitForFunction(() => window.gossipLab !== undefined, null, { timeout: 30_000 });
  // the lab writes back the same link (the viewer names the parameters as the lab does), but
  // for the fault timeline's times, which the lab writes in ms (5s:crash:3 -> 5000:crash:3)
  const pairs = (h) => Object.fromEntries(h.replace(/^[^#]*#/, '').split('&').map((kv) => kv.split('=').map(decodeURIComponent)));
  const [want, got] = [pairs(row.lab.href), pairs(await lab.evaluate(() => location.hash))];
  const kinds = (f) => (f ?? '').split(',').map((x) => x.split(':').slice(1).join(':'));
  assert.deepEqual(kinds(got.faults), kinds(want.faults), 'the same faults');
  delete want.faults; delete got.faults;
  assert.deepEqual(got, want, 'the lab writes back the same link');
  const report = await lab.evaluate(() => { window.gossipLab.pause(); return window.gossipLab.runToEnd(); });
  assert.deepEqual(lab.errors, []);
  await lab.close();
  const flat = await page.evaluate((r) => window.sweepView.flatten(r), report);
  let compared = 0;
  for (const c of sweep.metrics.map((c) => sweep.header[c]).concat(['stop_reason'])) {
    if (c === 'report.engine') continue;
    // a column of the sweep's other runs that this run's report lacks is an empty cell
    if (!(c in flat)) { assert.equal(row[c], '', `run ${i}: the lab's report has no ${c}, the row has ${row[c]}`); continue; }
    if (row[c] === '' || !Number.isFinite(Number(row[c]))) assert.equal(flat[c], row[c], `run ${i}: ${c}`);
    else assert.equal(Number(flat[c]), Number(row[c]), `run ${i}: ${c}: the lab's report equals the CSV row`);
    compared++;
  }
  return { flat, compared };
}

/** The summary CSV's row for configuration `config` and `metric`, as numbers. */
function summaryRow(config, metric) {
  // (no cell of this summary is quoted: the varied values are plain words and numbers)
  const [h, ...rows] = fs.readFileSync(CSV.replace(/\.csv$/, '.summary.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const r = rows.find((x) => x[h.indexOf('config')] === config && x[h.indexOf('metric')] === metric);
  return { mean: Number(r[h.indexOf('mean')]), low: Number(r[h.indexOf('ci95_low')]), high: Number(r[h.indexOf('ci95_high')]) };
}

test('the viewer computes the sweep summary\'s means and intervals, and refuses CSVs that are not sweeps', () => {
  // Student's t 0.975 quantiles from the tables: df 1, 2, 9, 30
  for (const [df, t] of [[1, 12.7062], [2, 4.3027], [9, 2.2622], [30, 2.0423]]) assert.ok(Math.abs(tQuantile975(df) - t) < 1e-4, `t(${df})`);
  const s = summary([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.half - 3.182446 * Math.sqrt(5 / 3) / 2) < 1e-5);
  const sweep = analyze(parseCsv(fs.readFileSync(CSV, 'utf8'), 'fanout.csv'));
  assert.equal(sweep.rows.length, 18);
  assert.equal(sweep.groups.length, 6);
  assert.deepEqual(sweep.varied, ['protocol', 'fanout']);
  const m = sweep.header.indexOf('messages');
  for (const g of sweep.groups) {
    const st = summary(g.rows.map((i) => Number(sweep.rows[i][m])));
    const want = summaryRow(g.config, 'messages');
    assert.ok(Math.abs(st.mean - want.mean) <= 1e-9 * Math.abs(want.mean), `config ${g.config}: mean`);
    assert.ok(Math.abs(st.mean - st.half - want.low) <= 1e-9 * Math.abs(want.mean) + 1e-9, `config ${g.config}: low end`);
    assert.ok(Math.abs(st.mean + st.half - want.high) <= 1e-9 * Math.abs(want.mean) + 1e-9, `config ${g.config}: high end`);
  }
  const bad = (text) => assert.throws(() => parseCsv(text, 'x.csv'), SweepInputError);
  bad('');
  bad('a,b,c\n1,2,3\n');
  bad('run,config,seed\n');
  bad('run,config,seed\n0,0,1\n1,0\n2,0,3\n');
  bad('run,config,seed\n0,0,"1\n1,0,2\n');
  // a last line cut short (a sweep still writing) is left out, as --resume does
  const cut = parseCsv('run,config,seed,x\n0,0,1,5\n1,0,2', 'x.csv');
  assert.equal(cut.rows.length, 1);
  assert.equal(cut.cut, true);
  // a byte order mark (a spreadsheet saved the file) and CRLF line ends are read as the sweep wrote it
  assert.deepEqual(parseCsv('\uFEFFrun,config,seed\r\n0,0,1\r\n', 'x.csv').rows, [['0', '0', '1']]);
});

test('a sweep opened in the viewer shows its runs and curves, and a clicked row replays its run in the lab exactly', async () => {
  const page = await openViewer();
  assert.equal(await page.isVisible('#intro'), true, 'before a CSV: how to open one');
  await page.setInputFiles('#file', CSV);
  await page.waitForSelector('#view:not([hidden])');
  assert.equal(await page.locator('#table tbody tr').count(), 18, 'a row per run');
  let shown = await page.evaluate(() => window.sweepView.shown());
  assert.equal(shown.runs, 18);
  assert.equal(shown.configs, 6);
  assert.equal(shown.x, 'protocol', 'x: the first varied parameter');
  assert.equal(shown.series.length, 3, 'one line per fanout');
  await page.evaluate(() => window.sweepView.plot('messages', 'fanout'));
  shown = await page.evaluate(() => window.sweepView.shown());
  assert.deepEqual(shown.series.map((s) => s.label), ['protocol=push', 'protocol=push-pull']);
  assert.equal(await page.locator('#plot g.series').count(), 2, 'one drawn line per protocol');
  assert.equal(await page.locator('#plot circle.run').count(), 18, 'a dot per run');
  assert.equal(await page.locator('#plot circle.pt').count(), 6, 'a mean per configuration');
  // the plotted means and bands are the summary's
  const sweep = analyze(parseCsv(fs.readFileSync(CSV, 'utf8'), 'fanout.csv'));
  for (const [k, proto] of ['push', 'push-pull'].entries()) {
    for (const p of shown.series[k].points) {
      const g = sweep.groups.find((x) => x.cells.protocol === proto && x.cells.fanout === p.x);
      const want = summaryRow(g.config, 'messages');
      assert.equal(p.n, 3);
      assert.ok(Math.abs(p.mean - want.mean) < 1e-9 * want.mean && Math.abs(p.mean + p.half - want.high) < 1e-9 * want.mean, `${proto} fanout ${p.x}`);
    }
  }
  await page.screenshot({ path: path.join(SHOTS, 'sweep-viewer.png'), fullPage: true });

  // the trade-off: latency against messages per update, a point per configuration at both means
  await page.evaluate(() => window.sweepView.plot('t_last_ms', 'messages_per_update'));
  const trade = await page.evaluate(() => window.sweepView.shown());
  assert.equal(trade.x, 'messages_per_update');
  assert.deepEqual(trade.series.map((s) => s.points.length), [3, 3], 'a line per protocol through its fanouts');
  for (const [k, proto] of ['push', 'push-pull'].entries()) {
    trade.series[k].points.forEach((p, j) => {
      const g = sweep.groups.find((x) => x.cells.protocol === proto && x.cells.fanout === String(j + 1));
      assert.ok(Math.abs(p.x - summaryRow(g.config, 'messages_per_update').mean) < 1e-9 * p.x, `${proto} fanout ${j + 1}: x`);
      assert.ok(Math.abs(p.mean - summaryRow(g.config, 't_last_ms').mean) < 1e-9 * p.mean, `${proto} fanout ${j + 1}: y`);
    });
  }
  assert.equal(await page.locator('#plot circle.run').count(), 18);
  await page.locator('#plot').screenshot({ path: path.join(SHOTS, 'sweep-tradeoff.png') });
  await page.evaluate(() => window.sweepView.plot('messages', 'fanout'));

  // sort by messages, descending: the first row holds the most
  await page.click('#table th:text-is("messages")');
  await page.click('#table th:text-is("messages")');
  const firstMessages = await page.evaluate(() => {
    const th = [...document.querySelectorAll('#table th')].findIndex((x) => x.textContent === 'messages');
    return [...document.querySelectorAll('#table tbody tr')].map((tr) => Number(tr.children[th].textContent));
  });
  assert.deepEqual(firstMessages, [...firstMessages].sort((a, b) => b - a), 'sorted, most first');

  // click the row of push-pull, fanout 2, seed 2: the lab opens on that run
  const i = sweep.rows.findIndex((r) => r[sweep.header.indexOf('protocol')] === 'push-pull' && r[sweep.header.indexOf('fanout')] === '2' && r[sweep.header.indexOf('seed')] === '2');
  const row = await page.evaluate((i) => window.sweepView.row(i), i);
  assert.ok(row.lab.href, 'the run links to the lab');
  const [lab] = await Promise.all([page.context().waitForEvent('page'), page.click(`#table tbody tr[data-row="${i}"] td:nth-child(3)`)]);
  await lab.waitForFunction(() => window.gossipLab !== undefined, null, { timeout: 30_000 });
  assert.equal(`index.html${await lab.evaluate(() => location.hash)}`, row.lab.href, 'the click opened the row\'s link');
  await lab.close();
  const { flat, compared } = await replayEqualsRow(page, i, sweep);
  assert.ok(compared >= 25, `every metric compared (${compared})`);
  assert.equal(flat['report.seed'], '2');
  assert.equal(flat['report.protocol'], 'push-pull');

  // a dot of the plot opens its run too
  const j = Number(await page.getAttribute('#plot circle.run >> nth=0', 'data-row'));
  const [lab2] = await Promise.all([page.context().waitForEvent('page'), page.click('#plot circle.run >> nth=0', { force: true })]);
  await lab2.waitForFunction(() => window.gossipLab !== undefined, null, { timeout: 30_000 });
  assert.equal(`index.html${await lab2.evaluate(() => location.hash)}`, (await page.evaluate((j) => window.sweepView.row(j), j)).lab.href);
  await lab2.close();

  // a mean point shows its configuration's runs
  await page.click('#plot circle.pt >> nth=0', { force: true });
  assert.equal(await page.locator('#table tbody tr').count(), 3);
  await page.click('#clear-filter');
  assert.equal(await page.locator('#table tbody tr').count(), 18);

  // exports: an SVG with the lines, a PNG
  const [svgDl] = await Promise.all([page.waitForEvent('download'), page.click('#svg')]);
  assert.equal(svgDl.suggestedFilename(), 'fanout.messages.svg');
  const svg = fs.readFileSync(await svgDl.path(), 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal((svg.match(/<g class="series"/g) || []).length, 2);
  const [pngDl] = await Promise.all([page.waitForEvent('download'), page.click('#png')]);
  const png = fs.readFileSync(await pngDl.path());
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(png.length > 5000, `a PNG with the plot drawn (${png.length} bytes)`);
  fs.copyFileSync(await pngDl.path(), path.join(SHOTS, 'sweep-export.png'));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a dropped file opens, rows the lab cannot run say why, ?csv= opens a hosted file, and bad CSVs get a clear message', async () => {
  const page = await openViewer();
  // the lab's own page links to the viewer
  const labPage = await suite.browser.newPage();
  await labPage.goto(suite.server.url);
  assert.equal(await labPage.getAttribute('a[href="sweep.html"]', 'href'), 'sweep.html');
  await labPage.close();

  // dropped on the page (a drop event carrying the file, as a drag from the desktop makes)
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'big.csv', { type: 'text/csv' }));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, fs.readFileSync(BIG, 'utf8'));
  await page.waitForSelector('#view:not([hidden])');
  assert.equal(await page.textContent('#source'), 'big.csv');
  assert.match(await page.textContent('#table tbody tr >> nth=0'), /the lab shows at most 1,000,000 nodes/);
  assert.equal(await page.locator('#table tbody a').count(), 0, 'no link for a run the lab refuses');
  await page.click('#table tbody tr >> nth=0 >> td >> nth=2');
  assert.match(await page.textContent('#banner-text'), /The lab cannot replay this run: nodes: the lab shows at most 1,000,000 nodes/);
  assert.equal((await page.evaluate(() => window.sweepView.shown())).series.length, 1, 'nothing varies: one line');

  // bad input keeps what is shown and says what is wrong, and where
  const cases = [
    ['notes.csv', 'name,value\na,1\n', /notes\.csv: not a gossip sweep CSV: its header must start with run,config/],
    ['short.csv', 'run,config,preset,seed,faults,x\n0,0,,1,,5\n1,0,,2\n2,0,,3,,7\n', /short\.csv: line 3 has 4 cells, the header 6/],
    ['empty.csv', '', /empty\.csv: empty, no header line/],
  ];
  for (const [name, text, want] of cases) {
    await page.click('#banner-close');
    await page.setInputFiles('#file', { name, mimeType: 'text/csv', buffer: Buffer.from(text) });
    await page.waitForSelector('#banner:not([hidden])');
    assert.match(await page.textContent('#banner-text'), want);
    assert.equal(await page.textContent('#source'), 'big.csv', 'the sweep shown stays');
  }
  await page.screenshot({ path: path.join(SHOTS, 'sweep-bad-input.png') });
  await page.close();

  // without the lab's WebAssembly the viewer still shows the sweep, and says its rows cannot link
  const nowasm = await suite.browser.newPage();
  await nowasm.route('**/pkg/gossip_bg.wasm', (r) => r.abort());
  await nowasm.goto(`${suite.server.url}sweep.html`);
  await nowasm.waitForFunction(() => document.documentElement.dataset.ready === '1');
  assert.match(await nowasm.textContent('#banner-text'), /WebAssembly module did not load/);
  await nowasm.setInputFiles('#file', CSV);
  await nowasm.waitForSelector('#view:not([hidden])');
  assert.equal(await nowasm.locator('#table tbody tr').count(), 18);
  assert.deepEqual(await nowasm.evaluate(() => window.sweepView.shown().varied), ['protocol', 'fanout'], 'the parameters found by their place (preset ... faults)');
  assert.match(await nowasm.textContent('#table tbody tr >> nth=0'), /WebAssembly module did not load/);
  await nowasm.close();

  // ?csv=URL: a hosted file (routed here), and one that is not there
  const hosted = await suite.browser.newPage();
  await hosted.route('**/hosted/fanout.csv', (r) => r.fulfill({ status: 200, contentType: 'text/csv', body: fs.readFileSync(CSV, 'utf8') }));
  await hosted.goto(`${suite.server.url}sweep.html?csv=hosted/fanout.csv`);
  await hosted.waitForFunction(() => document.documentElement.dataset.ready === '1');
  assert.equal((await hosted.evaluate(() => window.sweepView.shown())).runs, 18);
  await hosted.goto(`${suite.server.url}sweep.html?csv=missing.csv`);
  await hosted.waitForFunction(() => document.documentElement.dataset.ready === '1');
  assert.match(await hosted.textContent('#banner-text'), /Could not fetch the CSV at missing\.csv: HTTP 404/);
  await hosted.close();
});

test('links replay presets, fault timelines and SWIM runs exactly', async () => {
  const sweeps = {
    'preset.csv': ['--preset', 'glomers', '--vary', 'fanout=2,3', '--seeds', '1'],
    'swim.csv': ['--nodes', '30', '--model', 'events', '--membership', 'swim', '--vary', 'lifeguard=off,on', '--fault', '5s:crash:3', '--duration-s', '20', '--seeds', '1'],
    'faults.csv': ['--nodes', '30', '--model', 'events', '--protocol', 'rumor', '--anti-entropy-ms', '500', '--vary', 'fault=;5s:partition:2,10s:heal', '--seeds', '1'],
  };
  const page = await openViewer();
  for (const [name, args] of Object.entries(sweeps)) {
    const file = path.join(DIR, name);
    execFileSync(BIN, ['sweep', ...args, '--threads', '1', '-q', '-o', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    await page.setInputFiles('#file', file);
    await page.waitForFunction((n) => document.getElementById('source').textContent === n, name);
    const sweep = analyze(parseCsv(fs.readFileSync(file, 'utf8'), name));
    assert.equal(sweep.groups.length, 2, name);
    for (const g of sweep.groups) {
      const { compared } = await replayEqualsRow(page, g.rows[0], sweep);
      assert.ok(compared >= 10, `${name}: config ${g.config}: ${compared} columns compared`);
    }
  }
  assert.match((await page.evaluate(() => window.sweepView.row(1))).lab.href, /^index\.html#.*&faults=5s:partition:2,10s:heal$/, 'a fault timeline in the link, readable');
  assert.deepEqual(page.errors, []);
  await page.close();
});
