// The page as a teacher, end to end in Debian's chromium, against the
// native binary: every lesson's claims hold when its configuration runs
// natively (`gossip sim --engine full --json`) and in the page, where its
// link loads without an error and gives the same reports byte for byte;
// compare mode gives the two reports `gossip sim` prints for the two
// configurations, faults applied mid-run included, and its link replays
// both; every control and counter carries a one-sentence explanation, and
// the help panel lists the registry's protocols and links each docs page.
// Screenshots go to target/e2e/ (look at them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT, SHOTS, openLab, BIN, labSuite } from './harness.mjs';
import { LESSONS, lessonById, wrongFigures } from '../../www/lessons.js';


const suite = labSuite({ bin: true });

/** `gossip sim`'s flags for parameters named as the page names them (`faults` a comma list). */
function flagsOf(params) {
  return Object.entries(params).flatMap(([k, v]) => (k === 'faults'
    ? String(v).split(',').filter(Boolean).flatMap((f) => ['--fault', f])
    : [`--${k.replace(/_/g, '-')}`, String(v)]));
}

/** The native report (JSON text) of `params`, with the page's engine. */
function nativeJson(params) {
  return execFileSync(BIN, ['sim', ...flagsOf(params), '--engine', 'full', '--json', '-q'], { encoding: 'utf8' }).trim();
}

const bannerText = (page) => page.evaluate(() => (document.getElementById('banner').hidden ? null : document.getElementById('banner-text').textContent));

test('every lesson has steps in time order, an outcome, and at least six lessons cover the issue\'s list and each protocol family', () => {
  assert.ok(LESSONS.length >= 6);
  for (const id of ['doubling', 'ttl', 'residue', 'loss', 'partition', 'epoch', 'swim', 'plumtree']) assert.ok(lessonById(id), id);
  for (const l of LESSONS) {
    assert.ok(l.title && l.summary && l.outcome && l.steps.length >= 2, l.id);
    assert.equal(l.steps[0].at_ms, 0, `${l.id}: the first step is the start`);
    for (let k = 1; k < l.steps.length; k++) assert.ok(l.steps[k].at_ms > l.steps[k - 1].at_ms, `${l.id}: steps in time order`);
  }
});

test('each lesson\'s claimed outcome holds when its configuration runs natively', () => {
  for (const l of LESSONS) {
    const a = JSON.parse(nativeJson(l.params));
    const b = l.compare ? JSON.parse(nativeJson({ ...l.params, ...l.compare })) : null;
    assert.deepEqual(l.check(a, b), [], `${l.id}: the lesson's claims`);
    assert.deepEqual(wrongFigures(l, a, b), [], `${l.id}: the numbers in the lesson's text`);
    assert.ok(Object.keys(l.figures).length >= 1, `${l.id}: states at least one figure`);
    // and a broken claim is caught: the check is not vacuous
    const broken = { ...a, stop_reason: 'nope', residue: 0.5, rounds: -1, reliability: { min: 0 }, lost_updates: 7, detection: {}, partition: {} };
    assert.notDeepEqual(l.check(broken, b), [], `${l.id}: a wrong report fails the check`);
    const off = Object.fromEntries(Object.entries(l.figures).map(([k, v]) => [k, v + 1]));
    assert.equal(wrongFigures({ figures: off }, a, b).length, Object.keys(off).length, `${l.id}: a figure one off is caught`);
  }
});

test('the residue lesson holds over many seeds: rumor mongering (feedback, coin) leaves s ≈ e^{-(k+1)(1-s)}, a little less in synchronous rounds', () => {
  // timing model: synchronous rounds (gossip sim --model rounds), 1000 nodes, 12 seeds.
  // Demers' asynchronous estimate: 0.203 (k = 1), 0.060 (k = 2); the synchronous
  // rounds measure 0.160-0.188 and 0.043-0.057 at 10,000 nodes (tests/suite/sim_theory.rs).
  const l = lessonById('residue');
  const mean = (spec) => {
    let sum = 0;
    for (let seed = 1; seed <= 12; seed++) sum += JSON.parse(nativeJson({ ...l.params, ...spec, seed })).residue;
    return sum / 12;
  };
  const k1 = mean({});
  const k2 = mean(l.compare);
  assert.ok(k1 >= 0.15 && k1 <= 0.2, `k = 1: mean residue ${k1}`);
  assert.ok(k2 >= 0.035 && k2 <= 0.07, `k = 2: mean residue ${k2}`);
  // the fixed point of s = e^{-(k+1)(1-s)} is above both: the formula is the asynchronous bound
  const fixed = (k) => { let s = 0.5; for (let i = 0; i < 200; i++) s = Math.exp(-(k + 1) * (1 - s)); return s; };
  assert.ok(Math.abs(fixed(1) - 0.203) < 0.001 && k1 < fixed(1));
  assert.ok(Math.abs(fixed(2) - 0.0595) < 0.001 && k2 < fixed(2));
});

test('every lesson link loads, walks its steps and reaches its stated outcome, with the reports gossip sim prints', async () => {
  for (const l of LESSONS) {
    const page = await openLab(suite.browser, suite.server.url, `lesson=${l.id}`);
    // the walk starts at 0 whatever the load: a 10x lesson on a loaded
    // machine could pass its second step's time in the wait below
    await page.evaluate(() => { window.gossipLab.pause(); window.gossipLab.seek(0); });
    await page.waitForTimeout(400);
    assert.equal(await bannerText(page), null, `${l.id}: no banner`);
    assert.deepEqual(await page.evaluate(() => window.gossipLab.lesson()), { id: l.id, step: 0 }, l.id);
    assert.equal(await page.evaluate(() => window.gossipLab.speed()), l.speed ?? 1, `${l.id}: its speed`);
    assert.match(await page.textContent('#lesson'), new RegExp(l.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    // the link now holds the whole scenario, the lesson and its compared run
    const hash = await page.evaluate(() => location.hash);
    assert.match(hash, new RegExp(`lesson=${l.id}`));
    if (l.compare) assert.match(hash, /compare=/);
    // "Next" walks the steps at their times
    const t1 = await page.evaluate(() => window.gossipLab.lessonNext());
    assert.equal(t1, l.steps[1].at_ms, `${l.id}: Next goes to the second step`);
    assert.equal((await page.evaluate(() => window.gossipLab.lesson())).step, 1);
    if (l.id === 'doubling') await page.screenshot({ path: path.join(SHOTS, 'teach-lesson.png') });
    if (l.id === 'epoch') {
      // the lesson's step at 8 s: node 7 back in epoch 1 at counter 1, lacking the 29 others; node 3 in epoch 0
      const n = await page.evaluate(() => { window.gossipLab.step(8000 - window.gossipLab.snapshot().time_ms); return window.gossipLab.snapshot().nodes; });
      assert.deepEqual([n[7].up, n[7].epoch, n[7].version, n[7].stale], [true, 1, 1, 29]);
      assert.deepEqual([n[3].up, n[3].epoch], [true, 0]);
    }
    if (l.id === 'swim') {
      // the lesson's step at 15 s: 47 of 49 live members suspect node 5
      const s5 = await page.evaluate(() => { window.gossipLab.step(15000 - window.gossipLab.snapshot().time_ms); return window.gossipLab.suspects()[5]; });
      assert.equal(s5, 47);
    }
    if (l.id === 'plumtree') {
      // the lesson says: once broadcasts run, the eager links are a spanning tree
      const t = await page.evaluate(() => { window.gossipLab.step(55000 - window.gossipLab.snapshot().time_ms); return window.gossipLab.tree(); });
      assert.equal(t.tree, true, `eager links at 55 s: ${JSON.stringify({ ...t, edges: t.edges.length })}`);
      assert.equal(t.eager_edges, 49);
    }
    const reports = await page.evaluate(() => { window.gossipLab.runToEnd(); return window.gossipLab.compareReports() ?? { a: window.gossipLab.reportJson(), b: null }; });
    assert.equal(reports.a, nativeJson(l.params), `${l.id}: the page's report is gossip sim's`);
    if (l.compare) assert.equal(reports.b, nativeJson({ ...l.params, ...l.compare }), `${l.id}: B's report is gossip sim's`);
    else assert.equal(reports.b, null);
    assert.deepEqual(l.check(JSON.parse(reports.a), reports.b && JSON.parse(reports.b)), [], `${l.id}: the outcome in the page`);
    assert.deepEqual(wrongFigures(l, JSON.parse(reports.a), reports.b && JSON.parse(reports.b)), [], `${l.id}: the figures in the page`);
    if (l.id === 'epoch') {
      const snap = await page.evaluate(() => window.gossipLab.snapshot());
      assert.ok(snap.nodes[7].epoch >= 1, 'node 7 restarted fresh: a new epoch');
      assert.equal(snap.nodes[3].epoch, 0, 'node 3 kept its state: same epoch');
      assert.ok(snap.nodes.every((n) => n.up_to_date));
    }
    assert.equal(await bannerText(page), null, `${l.id}: no banner at the end`);
    assert.deepEqual(page.errors, [], l.id);
    await page.close();
  }
});

test('compare mode gives the two reports gossip sim prints for the two configurations, a fault applied mid-run included, and its link replays both', async () => {
  const a = { nodes: '40', seed: '7', scenario: 'movies', model: 'events', duration_s: '12', loss: '0.05', protocol: 'push-pull' };
  const page = await openLab(suite.browser, suite.server.url, new URLSearchParams(a).toString());
  await page.evaluate(() => window.gossipLab.pause());
  const both = await page.evaluate(() => window.gossipLab.compare({ protocol: 'push', fanout: 3 }));
  assert.equal(both.b.protocol, 'push');
  assert.equal(both.b.fanout, '3');
  assert.equal(both.b.seed, '7');
  await page.evaluate(() => window.gossipLab.step(3000));
  await page.evaluate(() => window.gossipLab.fault('crash:5'));
  await page.evaluate(() => window.gossipLab.step(1500));
  await page.evaluate(() => window.gossipLab.fault('partition:2'));
  await page.evaluate(() => window.gossipLab.setSpeed(10));
  await page.evaluate(() => window.gossipLab.play());
  await page.waitForTimeout(1200); // B follows A in the frame loop
  const mid = await page.evaluate(() => ({ a: window.gossipLab.snapshot().time_ms, b: window.gossipLab.compared().time_ms }));
  assert.equal(mid.b, mid.a, 'B advances in lockstep of virtual time');
  await page.waitForTimeout(300); // a chart redraw
  await page.locator('.charts').screenshot({ path: path.join(SHOTS, 'teach-compare.png') });
  await page.evaluate(() => window.gossipLab.fault('heal'));
  const r = await page.evaluate(() => { window.gossipLab.pause(); window.gossipLab.runToEnd(); return window.gossipLab.compareReports(); });
  const scen = await page.evaluate(() => ({ a: window.gossipLab.scenario(), b: window.gossipLab.compared().scenario }));
  assert.match(scen.a.faults, /crash:5.*partition:2.*heal/);
  assert.equal(scen.b.faults, scen.a.faults, 'one fault timeline');
  assert.equal(r.a, nativeJson(scen.a), 'A is gossip sim\'s run of A');
  assert.equal(r.b, nativeJson(scen.b), 'B is gossip sim\'s run of B');
  assert.notEqual(r.a, r.b);
  // counters in two columns
  await page.waitForTimeout(300);
  assert.ok((await page.$$('#counters .v.vb')).length >= 10, 'B\'s counters beside A\'s');
  // the link holds both: a fresh page on it gives the same two reports
  const hash = await page.evaluate(() => location.hash.slice(1));
  assert.match(hash, /compare=protocol:push,fanout:3/);
  const again = await openLab(suite.browser, suite.server.url, hash);
  const r2 = await again.evaluate(() => { window.gossipLab.pause(); window.gossipLab.runToEnd(); return window.gossipLab.compareReports(); });
  assert.deepEqual(r2, r);
  assert.deepEqual(again.errors, []);
  await again.close();

  // bad input is refused with the reason, and the runs go on
  for (const [spec, re] of [[{ seed: 2 }, /seed/], [{ fanout: 0 }, /fanout/], ['fanout', /name:value/], [{ preset: 'glomers' }, /preset/]]) {
    const err = await page.evaluate((s) => { try { window.gossipLab.compare(s); return null; } catch (e) { return String(e.message || e); } }, spec);
    assert.match(err ?? '', re, JSON.stringify(spec));
  }
  // a value of A's that B's protocol does not read is left out of B, and said so
  await page.evaluate(() => window.gossipLab.configure({ nodes: 60, scenario: 'single', model: 'rounds', protocol: 'rumor', stop: 'blind', coin: 2 }));
  const c = await page.evaluate(() => { window.gossipLab.compare({ protocol: 'push-pull' }); return window.gossipLab.compared(); });
  assert.deepEqual(c.dropped.sort(), ['coin', 'stop']);
  assert.match(await page.textContent('#cmp-label'), /without coin, stop|without stop, coin/);
  const r3 = await page.evaluate(() => { window.gossipLab.runToEnd(); return window.gossipLab.compareReports(); });
  assert.equal(r3.b, nativeJson(c.scenario));
  // stopping B takes compare= out of the link
  await page.evaluate(() => window.gossipLab.compare(null));
  assert.doesNotMatch(await page.evaluate(() => location.hash), /compare=/);
  assert.equal(await page.evaluate(() => window.gossipLab.compareReports()), null);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('joining real nodes stops the compared run and says why; compare refuses while connected', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=20&seed=3&scenario=movies&model=events&compare=fanout:3');
  assert.equal((await page.evaluate(() => window.gossipLab.compared())).spec.fanout, '3');
  // nothing listens on port 9 of loopback: the page connects, the node stays unreachable
  await page.evaluate(() => window.gossipLab.connect('http://127.0.0.1:9'));
  await page.waitForFunction(() => window.gossipLab.compared() === null, null, { timeout: 5000 });
  assert.match(await bannerText(page) ?? '', /Compare stopped: a run with real nodes cannot be replayed/);
  assert.doesNotMatch(await page.evaluate(() => location.hash), /compare=/);
  const err = await page.evaluate(() => { try { window.gossipLab.compare({ fanout: 2 }); return null; } catch (e) { return String(e.message || e); } });
  assert.match(err ?? '', /real nodes.*disconnect first/);
  await page.evaluate(() => window.gossipLab.disconnect());
  await page.close();
});

test('"Run beside" runs the form\'s changed values as B', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=30&seed=2&scenario=single&model=rounds&protocol=push');
  await page.evaluate(() => window.gossipLab.pause());
  await page.fill('#params [name=fanout]', '4');
  await page.click('#cmp-form');
  const c = await page.evaluate(() => window.gossipLab.compared());
  assert.deepEqual(c.spec, { fanout: '4' });
  assert.equal(await page.isVisible('#cmp-bar'), true);
  assert.match(await page.textContent('#cmp-label'), /fanout 4/);
  await page.click('#cmp-stop');
  assert.equal(await page.evaluate(() => window.gossipLab.compared()), null);
  // from rumor (its stop rule set) to push-pull in the form: B is push-pull, without A's stop rule, and says so
  await page.evaluate(() => window.gossipLab.configure({ nodes: 30, seed: 2, scenario: 'single', model: 'rounds', protocol: 'rumor', stop: 'blind' }));
  await page.selectOption('#params [name=protocol]', 'push-pull');
  await page.click('#cmp-form');
  const c2 = await page.evaluate(() => window.gossipLab.compared());
  assert.deepEqual(c2.spec, { protocol: 'push-pull' });
  assert.deepEqual(c2.dropped, ['stop']);
  assert.equal(await bannerText(page), null);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('every control and every counter says what it means, and the help panel lists the protocols from the registry and links each docs page', async () => {
  for (const hash of ['nodes=30&scenario=movies&model=events', 'lesson=swim', 'lesson=plumtree', 'lesson=doubling']) {
    const page = await openLab(suite.browser, suite.server.url, hash);
    await page.evaluate(() => { window.gossipLab.pause(); window.gossipLab.step(3000); window.gossipLab.select(1); });
    await page.waitForTimeout(400);
    const missing = await page.evaluate(() => [...document.querySelectorAll('button, input, select')]
      .filter((el) => !(el.title || el.closest('label')?.title || '').trim())
      .map((el) => el.id || el.name || el.dataset.act || el.dataset.speed || el.outerHTML.slice(0, 60)));
    assert.deepEqual(missing, [], `${hash}: controls without an explanation`);
    const counters = await page.evaluate(() => [...document.querySelectorAll('#counters .counter')].map((c) => [c.querySelector('.k').textContent, c.title]));
    assert.ok(counters.length >= 10);
    for (const [k, t] of counters) assert.ok(t.trim().length > 10, `${hash}: counter "${k}" has no explanation`);
    assert.deepEqual(page.errors, []);
    await page.close();
  }
  const page = await openLab(suite.browser, suite.server.url, 'nodes=30');
  await page.click('#help-btn');
  assert.equal(await page.isVisible('#help'), true);
  const text = await page.textContent('#help');
  const table = await page.evaluate(() => window.gossipLab.table());
  for (const p of table.protocols) assert.ok(text.includes(p.summary), `the help shows ${p.name}'s registry summary`);
  for (const l of LESSONS) assert.ok(text.includes(l.title), l.id);
  const links = await page.evaluate(() => [...document.querySelectorAll('#help .help-docs a')].map((a) => a.getAttribute('href')));
  const want = ['lab.md', 'sim.md', 'sweep.md', 'check.md', 'node.md', 'protocols.md', 'test-node.md'];
  assert.deepEqual(links, want.map((f) => `../docs/${f}`));
  for (const f of want) assert.ok(fs.existsSync(path.join(ROOT, 'docs', f)), `docs/${f} exists`);
  await page.screenshot({ path: path.join(SHOTS, 'teach-help.png') });
  // a lesson link in the help opens it
  await page.click('#help .help-lessons a[href="#lesson=ttl"]');
  await page.waitForFunction(() => window.gossipLab.lesson()?.id === 'ttl');
  assert.equal((await page.evaluate(() => window.gossipLab.compared())).spec.ttl, '3');
  await page.keyboard.press('Escape');
  assert.equal(await page.isVisible('#help'), false);
  // an unknown lesson is refused with the list
  await page.evaluate(() => { location.hash = 'lesson=nope'; });
  await page.waitForTimeout(300);
  assert.match(await bannerText(page) ?? '', /no lesson "nope".*doubling/);
  assert.deepEqual(page.errors, []);
  await page.close();
});
