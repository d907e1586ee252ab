// The chart as SVG, in Debian's chromium: gossipLab.chartSvg() and the
// "Chart SVG" button give one document that the browser parses and draws,
// with the axis labels, one path per curve the chart draws (updates, the
// band's median, the theory line, the compared run's), and in each path the
// very points gossipLab.series() returns (ages in ms, fractions, within the
// export's rounding). Screenshots of the SVG drawn as an image go to
// target/e2e/svg-*.png (look at them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHOTS, openLab, labSuite } from './harness.mjs';

const suite = labSuite();

/**
 * In the page: the SVG text and the series, taken together (paused), the
 * SVG parsed with DOMParser: its labels, its paths by class with their
 * points read back from `d`, and any parse error.
 */
function svgAndSeries(page) {
  return page.evaluate(() => {
    const text = window.gossipLab.chartSvg();
    const series = window.gossipLab.series();
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const err = doc.querySelector('parsererror');
    const paths = {};
    for (const p of doc.querySelectorAll('path')) {
      const pts = p.getAttribute('d').split(/(?=[MLZ])/).filter((s) => s.trim() && s[0] !== 'Z').map((s) => s.slice(1).trim().split(/\s+/).map(Number));
      (paths[p.getAttribute('class')] ||= []).push(pts);
    }
    return {
      text, series, error: err ? err.textContent : null, root: doc.documentElement.nodeName,
      labels: [...doc.querySelectorAll('text.label')].map((t) => t.textContent),
      title: doc.querySelector('text.title')?.textContent ?? null,
      paths,
    };
  });
}

/** Assert that the exported `got` paths are the series' `want` curves, point for point. */
function samePoints(got, want, maxAge, what) {
  const drawn = want.filter((c) => c.length);
  assert.equal((got || []).length, drawn.length, `${what}: one path per drawn curve`);
  drawn.forEach((c, j) => {
    assert.equal(got[j].length, c.length, `${what} ${j}: every point`);
    c.forEach(([t, f], k) => {
      const [x, y] = got[j][k];
      assert.ok(Math.abs(x - Math.min(t, maxAge)) <= 0.001, `${what} ${j} point ${k}: age ${x} vs ${t}`);
      assert.ok(Math.abs(y - f) <= 1e-6, `${what} ${j} point ${k}: fraction ${y} vs ${f}`);
    });
  });
}

/** Draw the SVG text as an image in the page (the browser's SVG renderer), screenshot it, return its size. */
async function drawn(page, text, name) {
  const size = await page.evaluate(async (svg) => {
    const img = new Image();
    img.id = 'svg-shot';
    img.style.cssText = 'position:fixed;left:0;top:0;z-index:99999;background:#000';
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
    await img.decode();
    document.body.append(img);
    return [img.naturalWidth, img.naturalHeight];
  }, text);
  await page.locator('#svg-shot').screenshot({ path: path.join(SHOTS, name) });
  await page.evaluate(() => document.getElementById('svg-shot').remove());
  return size;
}

test('the chart as SVG has the axis labels, one path per update and the theory line, with the series\' points', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=200&seed=3&scenario=single&model=events&protocol=push-pull');
  await page.evaluate(() => { window.gossipLab.pause(); window.gossipLab.step(15000); });
  const s = await svgAndSeries(page);
  assert.equal(s.error, null, 'it parses as SVG');
  assert.equal(s.root, 'svg');
  for (const l of ['0%', '25%', '50%', '75%', '100%', '0 s']) assert.ok(s.labels.includes(l), `axis label ${l} in ${s.labels}`);
  const ticks = s.labels.filter((l) => /^\d+(\.\d+)? s$/.test(l)).map((l) => parseFloat(l));
  assert.ok(ticks.length >= 4 && ticks.every((t, j) => !j || t > ticks[j - 1]), `time ticks along the axis: ${ticks}`);
  assert.ok(ticks[ticks.length - 1] * 1000 <= s.series.max_age && ticks[ticks.length - 1] * 1000 > s.series.max_age / 2, `ticks up to the axis end ${s.series.max_age}`);
  assert.match(s.title, /gossip lab · push-pull · single · 200 nodes/);
  assert.equal(s.series.band, null);
  assert.equal(s.series.curves.length, 1, 'one update');
  samePoints(s.paths.update, s.series.curves.map((c) => c.points), s.series.max_age, 'update');
  assert.ok(s.series.theory.length > 10);
  samePoints(s.paths.theory, [s.series.theory], s.series.max_age, 'theory');
  assert.equal(s.paths.compare, undefined, 'nothing compared');
  // the points are the run's own: the update's curve climbs to everyone
  const pts = s.paths.update[0];
  assert.ok(pts[0][1] < 0.05, `starts at the origin: ${pts[0]}`);
  assert.equal(pts[pts.length - 1][1], 1, 'ends with everyone');
  const [w, h] = await drawn(page, s.text, 'svg-single.png');
  const css = await page.evaluate(() => { const r = document.getElementById('chart').getBoundingClientRect(); return [r.width, r.height]; });
  assert.ok(Math.abs(w - css[0]) <= 1 && h > css[1] && h < css[1] + 60, `the chart's size and a title line: ${w}x${h} for ${css}`);
  // the button saves the same document, named as the PNG is
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#chart-svg')]);
  assert.equal(download.suggestedFilename(), 'gossip-chart-push-pull-single-nodes200-fanout1-loss0-seed3.svg');
  const file = path.join(SHOTS, 'svg-chart.svg');
  await download.saveAs(file);
  assert.equal(fs.readFileSync(file, 'utf8'), s.text);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('with many updates the SVG has the band, its median and the highlighted updates; in compare mode the other run\'s curves', async () => {
  const page = await openLab(suite.browser, suite.server.url, 'nodes=40&seed=1&scenario=movies&model=events&protocol=push-pull&fanout=2');
  await page.evaluate(() => { window.gossipLab.pause(); window.gossipLab.compare({ protocol: 'push' }); window.gossipLab.step(20000); });
  const s = await svgAndSeries(page);
  assert.equal(s.error, null, 'it parses as SVG');
  const b = s.series.band;
  assert.ok(b && b.ages.length, `a band past 40 updates (${s.series.updates} updates)`);
  assert.equal(s.paths.band.length, 1, 'one band area');
  const rows = b.ages.map((a, k) => k).filter((k) => b.q[0][k] !== null);
  const mid = b.q[Math.floor(b.q.length / 2)];
  samePoints(s.paths['band-median'], [rows.map((k) => [b.ages[k], mid[k]])], s.series.max_age, 'band median');
  assert.equal(s.paths.band[0].length, 2 * rows.length, 'the band: upper and lower edges');
  samePoints(s.paths.update, s.series.curves.map((c) => c.points), s.series.max_age, 'update');
  assert.ok(s.series.compare.length > 0, 'the compared run has curves');
  samePoints(s.paths.compare, s.series.compare.map((c) => c.points), s.series.max_age, 'compare');
  assert.ok(s.labels.some((l) => /updates: band/.test(l)), 'the band\'s caption');
  await drawn(page, s.text, 'svg-band-compare.png');
  assert.deepEqual(page.errors, []);
  await page.close();
});
