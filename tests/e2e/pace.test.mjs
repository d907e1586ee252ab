// How often the page draws (www/pace.js). At max speed a network that takes
// long to draw (1,000,000 nodes) is drawn a few times a second and the run
// gets the rest of the time, but its end is always drawn; at other speeds
// and for a small network every frame draws; paused, a costly picture is
// drawn again when it changes. The pacer's rule and
// the frame's passes over every node are also checked in node alone.
// Screenshots go to target/e2e/ (look at them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SHOTS, openLab, labSuite, paintedPixels } from './harness.mjs';
import { DrawPacer, DRAW_SHARE, CHEAP_DRAW_MS, STILL_COST_MS, STILL_EVERY_MS, upAndCurrent, maxOf, anyNonZero } from '../../www/pace.js';

const suite = labSuite();

test('the pacer draws when not fast, and when fast only once the last drawing is a small share of the time since', () => {
  const p = new DrawPacer();
  assert.equal(p.draws(0, true), true, 'nothing drawn yet: draw');
  p.drawn(1000, 100);
  assert.equal(p.draws(1010, false), true, 'not fast: always');
  assert.equal(p.draws(1000 + 100 / DRAW_SHARE - 1, true), false, 'fast: not before the drawing is DRAW_SHARE of the time since');
  assert.equal(p.draws(1000 + 100 / DRAW_SHARE, true), true);
  p.drawn(2000, 1);
  assert.equal(p.draws(2016, true), true, 'a cheap drawing: every frame');
  p.drawn(2016, CHEAP_DRAW_MS);
  assert.equal(p.draws(2032, true), true, 'up to CHEAP_DRAW_MS a drawing is cheap, however short the frame');
  p.drawn(2032, CHEAP_DRAW_MS + 1);
  assert.equal(p.draws(2048, true), true, 'one slow drawing (a collection, the counters refreshed) does not hold the next frames back');
  p.drawn(2048, CHEAP_DRAW_MS + 1);
  assert.equal(p.draws(2064, true), false, 'past it twice, the share rules');
  p.drawn(3000, 500);
  p.reset();
  assert.equal(p.draws(3001, true), true, 'after a reset (a new run) the next frame draws');
});

test('a still picture that is costly to draw is drawn again only when what it shows changes, after an input, or now and then', () => {
  const p = new DrawPacer();
  assert.equal(p.draws(0, false, true, 'a'), true, 'nothing drawn yet: draw');
  p.drawn(0, STILL_COST_MS + 1);
  assert.equal(p.draws(16, false, true, 'a'), true, 'one slow drawing (a collection, a layout) is not a costly picture');
  p.drawn(0, STILL_COST_MS + 1);
  assert.equal(p.draws(16, false, true, 'a'), false, 'unchanged and costly twice: not again');
  assert.equal(p.draws(STILL_EVERY_MS - 1, false, true, 'a'), false);
  assert.equal(p.draws(STILL_EVERY_MS, false, true, 'a'), true, 'now and then all the same');
  p.drawn(STILL_EVERY_MS, STILL_COST_MS + 1);
  assert.equal(p.draws(STILL_EVERY_MS + 16, false, true, 'b'), true, 'what it shows changed (zoom, time, selection)');
  p.drawn(STILL_EVERY_MS + 16, STILL_COST_MS + 1);
  p.reset();
  assert.equal(p.draws(STILL_EVERY_MS + 32, false, true, 'b'), true, 'after an input');
  p.drawn(STILL_EVERY_MS + 32, STILL_COST_MS);
  assert.equal(p.draws(STILL_EVERY_MS + 48, false, true, 'b'), true, 'a cheap picture: every frame');
  p.drawn(1000, STILL_COST_MS + 1);
  p.drawn(1000, STILL_COST_MS + 1);
  assert.equal(p.draws(1016, false, false, ''), true, 'a run that moves: every frame');
});

test('the frame\'s passes count up and current nodes, the largest code, and whether a partition shows', () => {
  const s = Uint32Array.from([0, 1, 2, 1, 0, 3, 1]);
  assert.deepEqual(upAndCurrent(s, 0, 1), { up: 5, current: 3 });
  assert.equal(maxOf(s), 3);
  assert.equal(maxOf(new Uint32Array(0)), 0);
  assert.equal(anyNonZero(new Uint16Array(1000)), false);
  const g = new Uint16Array(1000);
  g[999] = 2;
  assert.equal(anyNonZero(g), true);
});

test('at max speed a 1,000,000-node run is drawn a few times, not every frame, and its end is drawn', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=1000');
  const r = await page.evaluate(async () => {
    const g = window.gossipLab;
    g.pause();
    g.configure({ nodes: 1000000, protocol: 'push-pull', seed: '1' });
    // paused: the picture (30-40 ms to draw) is not drawn again while it
    // does not change, and is at once when it does (a zoom)
    for (let i = 0; i < 3; i++) await new Promise((ok) => requestAnimationFrame(ok));
    g.frameStats();
    const f0 = performance.now();
    for (let i = 0; i < 8; i++) await new Promise((ok) => requestAnimationFrame(ok));
    const paused = { ...g.frameStats(), ms: performance.now() - f0 };
    g.zoom(1.5);
    for (let i = 0; i < 2; i++) await new Promise((ok) => requestAnimationFrame(ok));
    const zoomed = g.frameStats();
    g.zoom(1);
    g.setSpeed('max');
    g.play();
    const t0 = performance.now();
    await new Promise((ok) => { const poll = () => (/\b(ok|warn)\b/.test(document.getElementById('state').className) || performance.now() - t0 > 120000 ? ok() : requestAnimationFrame(poll)); requestAnimationFrame(poll); });
    const fast = g.frameStats();
    return { paused, zoomed, fast, state: document.getElementById('state').textContent, counters: document.getElementById('counters').textContent, stop: g.snapshot().stop_reason };
  });
  // (every STILL_EVERY_MS it is drawn all the same)
  assert.ok(r.paused.frames >= 8 && r.paused.drawn <= 1 + r.paused.ms / 250, `paused: the unchanged picture is not drawn every frame (${JSON.stringify(r.paused)})`);
  assert.ok(r.zoomed.drawn >= 1, `paused: a zoom is drawn at once (${JSON.stringify(r.zoomed)})`);
  assert.equal(r.stop, 'converged');
  assert.equal(r.state, 'converged', 'the end is drawn: the state pill says so');
  assert.match(r.counters, /1,000,000 \/ 1,000,000/, 'the counters drawn at the end show everyone up to date');
  // (the run takes a few tenths of a second: its end and maybe one picture on the way)
  assert.ok(r.fast.drawn >= 1 && r.fast.drawn < r.fast.frames, `fast: ${r.fast.drawn} of ${r.fast.frames} frames drew`);
  await page.waitForTimeout(300);
  assert.ok((await paintedPixels(page, 'net')) > 20000, 'the cells are drawn');
  await page.screenshot({ path: path.join(SHOTS, 'pace-million-end.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a small network at max speed still draws (nearly) every frame', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=50');
  const s = await page.evaluate(async () => {
    const g = window.gossipLab;
    // (the course app: favorites keep changing, so the run goes on for an
    // hour of virtual time; a single rumor would have stopped at once)
    g.configure({ nodes: 50, scenario: 'movies', duration_s: 3600 });
    g.setSpeed('max');
    g.play();
    for (let i = 0; i < 10; i++) await new Promise((ok) => requestAnimationFrame(ok));
    g.frameStats();
    const t0 = g.snapshot().time_ms;
    for (let i = 0; i < 30; i++) await new Promise((ok) => requestAnimationFrame(ok));
    const snap = g.snapshot();
    return { ...g.frameStats(), moved_ms: snap.time_ms - t0, stop: snap.stop_reason };
  });
  assert.equal(s.stop, null, 'the run is still going');
  assert.ok(s.moved_ms > 30_000, `virtual time raced (${s.moved_ms} ms in 30 frames)`);
  // drawing 50 nodes takes a few milliseconds (the chart's redraw, a few
  // times a second, more; and it once copied out the 20,000 messages sent
  // since the last frame), so every frame draws; a frame or two may be
  // slower on a loaded machine
  assert.ok(s.drawn >= s.frames - 3, `${s.drawn} of ${s.frames} frames drew (${JSON.stringify(s)})`);
  assert.deepEqual(page.errors, []);
  await page.close();
});
