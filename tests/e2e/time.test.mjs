// Control of time and a truthful chart, in Debian's chromium: seek(t) gives
// the snapshot of a fresh run stepped to t (forward and backward, 1,000
// nodes); the chart's series (recorded by the run in virtual time) is the
// same at max speed, at 1x and when stepping; a fault applied after seeking
// back forks the run, is in the link and replays; a seek on the slider
// replays in the frame loop; seek is refused with real
// nodes; the speed control and the CSV at fixed virtual-time steps.
// Screenshots go to target/e2e/ (look at them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHOTS, openLab, labSuite } from './harness.mjs';

const suite = labSuite();

const BIG = 'nodes=1000&seed=5&scenario=movies&model=events&protocol=push-pull&fanout=2&ttl=6&latency_ms=60&jitter_ms=40&duration_s=20';

/** A fresh page paused at time 0 on `hash`. */
async function paused(hash) {
  const page = await openLab(suite.browser, suite.server.url, hash);
  await page.evaluate(() => { window.gossipLab.pause(); window.gossipLab.configure(window.gossipLab.scenario()); });
  return page;
}

test('seek(t) then snapshot() deep-equals a fresh run stepped to t, forward and backward, at 1,000 nodes', { timeout: 240_000 }, async () => {
  const page = await paused(BIG);
  const times = [9_000, 3_500, 12_000, 700, 12_000];
  // the scenario has a fault, so the replay must re-apply it too
  const got = await page.evaluate((times) => {
    const g = window.gossipLab;
    g.step(2_000);
    g.fault('partition:2');
    g.step(4_000);
    g.fault('heal');
    g.step(8_000);
    const out = [];
    for (const t of times) { const at = g.seek(t); out.push({ at, snap: g.snapshot(), series: g.series() }); }
    return { scenario: g.scenario(), out };
  }, times);
  const fresh = await openLab(suite.browser, suite.server.url, BIG);
  for (const [k, t] of times.entries()) {
    const want = await fresh.evaluate(([scenario, t]) => {
      const g = window.gossipLab;
      g.pause();
      g.configure(scenario);
      g.step(t);
      return { at: t, snap: g.snapshot(), series: g.series() };
    }, [got.scenario, t]);
    assert.equal(got.out[k].at, t);
    assert.equal(got.out[k].snap.nodes.length, 1000);
    assert.deepEqual(got.out[k].snap, want.snap, `snapshot at ${t} ms`);
    assert.deepEqual(got.out[k].series, want.series, `series at ${t} ms`);
  }
  // not a snapshot that never changes: 0.7 s and 12 s differ
  assert.notDeepEqual(got.out[3].snap, got.out[2].snap);
  assert.deepEqual(page.errors, []);
  await page.close(); await fresh.close();
});

test('a seek back on the slider replays in the frame loop: frames go on, the label says how far, and the state reached is the exact one', { timeout: 240_000 }, async () => {
  const page = await paused(BIG);
  await page.evaluate(() => window.gossipLab.step(12_000));
  // drag the slider back to 9 s (as a person does: input events)
  await page.evaluate(() => {
    const s = document.getElementById('time-slider');
    s.value = '9000';
    s.dispatchEvent(new Event('input', { bubbles: true }));
  });
  const seen = await page.evaluate(async () => {
    const g = window.gossipLab;
    const labels = [];
    const pills = new Set();
    let frames = 0;
    const t0 = performance.now();
    // (bounded: a replay that never ends fails here, not by hanging)
    while (performance.now() - t0 < 120_000) {
      await new Promise((ok) => requestAnimationFrame(ok));
      frames++;
      labels.push(document.getElementById('time-label').textContent);
      pills.add(document.getElementById('state').textContent);
      if (frames > 2 && g.seeking() === null) break;
    }
    return { frames, labels, pills: [...pills], seeking: g.seeking(), slider: document.getElementById('time-slider').value, ms: performance.now() - t0 };
  });
  assert.equal(seen.seeking, null, `the replay ended (${seen.ms} ms)`);
  // 1,000 nodes replaying 9 s of the course app take seconds: the page drew
  // frames meanwhile and said what it was doing
  assert.ok(seen.labels.some((l) => /^replaying to 9\.00 s: \d+ %$/.test(l)), `a progress label (${seen.labels.slice(0, 3)})`);
  assert.ok(seen.frames > 5, `frames went on during the replay (${seen.frames})`);
  assert.ok(seen.pills.includes('replaying'), `the state pill said so (${seen.pills})`);
  assert.equal(await page.textContent('#state'), 'paused');
  assert.equal(seen.slider, '9000');
  assert.match(seen.labels[seen.labels.length - 1], /^9\.00 s of 12\.00 s$/);
  // exact: the same as the synchronous seek (a rebuild and one replay)
  const [sliced, direct] = await page.evaluate(() => {
    const g = window.gossipLab;
    const a = g.snapshot();
    g.seek(0);
    g.seek(9_000);
    return [a, g.snapshot()];
  });
  assert.equal(sliced.time_ms, 9000);
  assert.deepEqual(sliced, direct);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the chart series at max speed equals the series at 1x and when stepping, for the same seed', { timeout: 240_000 }, async () => {
  const hash = 'nodes=200&seed=9&scenario=movies&model=events&protocol=push-pull&fanout=2&ttl=6&latency_ms=60&jitter_ms=40&duration_s=6';
  // 1x: real frames for 2.5 s of wall time, then paused
  const one = await paused(hash);
  const t1 = await one.evaluate(async () => {
    const g = window.gossipLab;
    g.setSpeed(1); g.play();
    await new Promise((r) => setTimeout(r, 2_500));
    g.pause();
    return g.snapshot().time_ms;
  });
  assert.ok(t1 > 1_000, `1x ran ${t1} ms in 2.5 s`);
  const s1 = await one.evaluate(() => window.gossipLab.series());
  // max: frames until past t1 and then to the end; seek back to t1 replays
  const max = await paused(hash);
  const { sMaxEnd, sMaxAt } = await max.evaluate(async (t1) => {
    const g = window.gossipLab;
    g.setSpeed('max'); g.play();
    for (let i = 0; i < 600 && !g.snapshot().stop_reason; i++) await new Promise((r) => setTimeout(r, 50));
    g.pause();
    const sMaxEnd = g.series();
    g.seek(t1);
    return { sMaxEnd, sMaxAt: g.series() };
  }, t1);
  assert.ok(sMaxEnd.updates >= 200, `${sMaxEnd.updates} updates at the end`);
  // stepping: by odd amounts of virtual time, and single events
  const step = await paused(hash);
  const { sStepAt, sStepEnd } = await step.evaluate((t1) => {
    const g = window.gossipLab;
    g.stepEvents(25);
    while (g.snapshot().time_ms + 137 < t1) g.step(137);
    g.step(t1 - g.snapshot().time_ms);
    const sStepAt = g.series();
    g.runToEnd();
    return { sStepAt, sStepEnd: g.series() };
  }, t1);
  assert.deepEqual(sMaxAt, s1, 'max (sought back) against 1x');
  assert.deepEqual(sStepAt, s1, 'stepping against 1x');
  assert.deepEqual(sStepEnd, sMaxEnd, 'stepping against max, at the end');
  // many updates: the band and a few highlighted curves, every update counted
  assert.ok(sMaxEnd.band, 'a band past 40 updates');
  assert.ok(sMaxEnd.curves.length <= 5);
  const med = sMaxEnd.band.q[1];
  assert.equal(med[0] < 0.5, true, 'at age 0 the median update is known by few');
  assert.equal(med[med.length - 1], 1, 'at the end the median update is everywhere');
  await step.screenshot({ path: path.join(SHOTS, 'time-band.png') });
  for (const p of [one, max, step]) { assert.deepEqual(p.errors, []); await p.close(); }
});

test('a fault applied after seeking back forks the run: the later faults go, the link replays the new course', { timeout: 120_000 }, async () => {
  const hash = 'nodes=100&seed=4&scenario=movies&model=events&protocol=push-pull&fanout=2&ttl=6&duration_s=10';
  const page = await paused(hash);
  const r = await page.evaluate(() => {
    const g = window.gossipLab;
    g.step(2_000); g.fault('partition:2');
    g.step(3_000); g.fault('heal');
    g.step(2_000);
    const before = g.scenario().faults;
    g.seek(1_000);
    const kept = g.scenario().faults; // seeking alone keeps the future
    g.fault('crash:7');
    const forked = g.scenario().faults;
    g.step(4_000);
    return { before, kept, forked, hash: location.hash, snap: g.snapshot() };
  });
  assert.equal(r.kept, r.before);
  assert.equal(r.forked, '1001:crash:7');
  assert.match(decodeURIComponent(r.hash), /faults=1001:crash:7(&|$)/);
  // the link replays: a new page on it, stepped to the same time
  const again = await openLab(suite.browser, suite.server.url, r.hash.slice(1));
  const snap = await again.evaluate((t) => { const g = window.gossipLab; g.pause(); g.configure(g.scenario()); g.step(t); return g.snapshot(); }, r.snap.time_ms);
  assert.deepEqual(snap, r.snap);
  // the fault is a mark on the time slider; a click seeks there
  await page.click('#time-marks .mark');
  await page.waitForFunction(() => window.gossipLab.seeking() === null, null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => window.gossipLab.snapshot().time_ms), 1001);
  for (const p of [page, again]) { assert.deepEqual(p.errors, []); await p.close(); }
});

test('after a seek, the messages drawn are the ones in flight at the time reached, past the log\'s cap', { timeout: 120_000 }, async () => {
  // 200 nodes send about 32,000 messages in 8 s, past the run's log of
  // 20,000 (it keeps the latest: before, it kept the first ones after the
  // last read, all arrived long before, and nothing was drawn flying)
  const page = await paused('nodes=200&seed=3&scenario=movies&model=events&protocol=push-pull&fanout=2&ttl=6&latency_ms=200&jitter_ms=40&duration_s=20');
  const r = await page.evaluate(() => {
    const g = window.gossipLab;
    g.seek(8_013);
    const drawn = g.flightsNow();
    return { sent: g.metrics().messages, now: g.snapshot().time_ms, drawn: drawn.length, real: drawn.filter(([f, t]) => g.inFlight(f, t).length > 0).length };
  });
  assert.equal(r.now, 8_013);
  assert.ok(r.sent > 20_000, `the run sent past the log's cap: ${r.sent}`);
  assert.ok(r.drawn > 20, `messages drawn flying: ${r.drawn}`);
  assert.equal(r.real, r.drawn, 'every message drawn flying is in flight in the run');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('speeds run from 1/100x to 100x on a log scale plus max, with + and - keys', { timeout: 60_000 }, async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=30&seed=2');
  await page.evaluate(() => window.gossipLab.setSpeed(1));
  const seen = [];
  for (let i = 0; i < 10; i++) { await page.keyboard.press('-'); seen.push(await page.evaluate(() => window.gossipLab.speed())); }
  assert.equal(seen[seen.length - 1], 0.01, `down to 1/100x: ${seen}`);
  assert.equal(await page.textContent('#speed-text'), '1/100×');
  // at 1/100x, 2 s of wall time is about 20 ms of virtual time
  const t0 = await page.evaluate(() => { window.gossipLab.play(); return window.gossipLab.snapshot().time_ms; });
  await page.waitForTimeout(2_000);
  const dt = (await page.evaluate(() => window.gossipLab.snapshot().time_ms)) - t0;
  assert.ok(dt >= 5 && dt <= 60, `1/100x moved ${dt} ms in 2 s`);
  for (let i = 0; i < 16; i++) await page.keyboard.press('+');
  assert.equal(await page.evaluate(() => window.gossipLab.speed()), 100);
  await page.keyboard.press('+');
  assert.equal(await page.evaluate(() => window.gossipLab.speed()), 'max');
  await assert.rejects(page.evaluate(() => window.gossipLab.setSpeed(-3)), /positive number/);
  await page.screenshot({ path: path.join(SHOTS, 'time-controls.png') });
  assert.deepEqual(page.errors.filter((e) => !/positive number/.test(e)), []);
  await page.close();
});

test('the metrics CSV has a row per interval of virtual time, the parameters in its header and its name', { timeout: 60_000 }, async () => {
  const page = await paused('nodes=40&seed=11&scenario=movies&model=events&protocol=push&fanout=3&duration_s=5');
  const { csv, name } = await page.evaluate(() => { const g = window.gossipLab; g.runToEnd(); return { csv: g.metricsCsv(), name: g.csvName() }; });
  assert.equal(name, 'gossip-metrics-push-movies-nodes40-fanout3-loss0-seed11.csv');
  const lines = csv.trim().split('\n');
  assert.match(lines[0], /one row every 1000 ms of virtual time/);
  assert.match(lines[1], /nodes=40 .*seed=11/);
  const cols = lines[3].split(',');
  assert.equal(cols[0], 'time_ms');
  const times = lines.slice(4).map((l) => Number(l.split(',')[0]));
  const end = await page.evaluate(() => window.gossipLab.snapshot().time_ms);
  // every interval from 0, then the end
  assert.deepEqual(times.slice(0, -1), times.slice(0, -1).map((_, k) => k * 1000));
  assert.equal(times[times.length - 1], end);
  assert.ok(times.length >= 5);
  // the last row's counters are the report's
  const m = await page.evaluate(() => window.gossipLab.metrics());
  const last = lines[lines.length - 1].split(',');
  assert.equal(Number(last[cols.indexOf('messages')]), m.messages);
  assert.equal(Number(last[cols.indexOf('updates')]), m.updates);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('while real nodes take part, time runs at wall-clock speed: the controls say why and seek is refused', { timeout: 60_000 }, async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=20&seed=3');
  // a real node that does not answer (nothing listens on the discard port) still joins the run
  await page.evaluate(() => window.gossipLab.connect('http://127.0.0.1:9', { max_rps: 1 }));
  await page.waitForFunction(() => !document.getElementById('time-why').hidden);
  assert.match(await page.textContent('#time-why'), /wall-clock speed/);
  assert.equal(await page.isDisabled('#time-slider'), true);
  assert.match(await page.getAttribute('#speed-log', 'title'), /real nodes cannot be paused/);
  await assert.rejects(page.evaluate(() => window.gossipLab.seek(0)), /seek: Real nodes take part/);
  await page.screenshot({ path: path.join(SHOTS, 'time-connected.png') });
  await page.evaluate(() => window.gossipLab.disconnect());
  await page.waitForFunction(() => document.getElementById('time-why').hidden);
  assert.equal(await page.isDisabled('#time-slider'), false);
  await page.close();
});
