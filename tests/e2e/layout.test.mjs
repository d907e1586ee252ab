// The lab's layout at 1440×900 and 1280×720, in Debian's chromium, for a
// gossip run (movies and the single rumor), a SWIM run and an overlay run:
// the legend covers no node, no label's text overflows its box (and no
// select cuts its chosen option), no empty band opens above or inside the
// chart card, and the node inspector opens beside the network on the
// clicked node's side (the middle node too), the network laid out again
// beside it so that it covers no node, inside the viewport, with its view
// table's "learned from" column whole. Screenshots of every case go
// to target/e2e/layout-*.png (look at them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHOTS, openLab, labSuite } from './harness.mjs';

const suite = labSuite();

const VIEWPORTS = [{ width: 1440, height: 900 }, { width: 1280, height: 720 }];
const RUNS = {
  movies: 'nodes=50&seed=1&scenario=movies&model=events',
  single: 'nodes=60&seed=2&scenario=single&model=events&interval_ms=1000',
  swim: 'membership=swim&nodes=50&seed=7&model=events&duration_s=40',
  overlay: 'membership=hyparview&protocol=plumtree&scenario=broadcast&nodes=60&seed=3&model=events&warmup_cycles=10',
};

/** Whether the disk (x, y, r) and the box overlap. */
function diskHitsBox(n, b) {
  const cx = Math.max(b.left, Math.min(n.x, b.right)), cy = Math.max(b.top, Math.min(n.y, b.bottom));
  return (n.x - cx) ** 2 + (n.y - cy) ** 2 < n.r ** 2;
}

/** Elements of the page whose text does not fit their box, and selects that cut their chosen option. */
function overflowing(page) {
  return page.evaluate(() => {
    const bad = [];
    const seen = (el) => el.offsetParent !== null && el.getClientRects().length > 0;
    const name = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className} "${el.textContent.trim().slice(0, 40)}"`;
    const sel = 'h2, h3, button, .pill, .legend span, .chart-key span, .counter .k, .counter .v, form label, .insp-grid .k, .insp-grid .v, #insp-body td, .timeline li';
    for (const el of document.querySelectorAll(sel)) {
      if (!seen(el)) continue;
      if (el.scrollWidth > el.clientWidth + 1) bad.push(`${name(el)}: text ${el.scrollWidth} px in ${el.clientWidth} px`);
    }
    const ctx = document.createElement('canvas').getContext('2d');
    for (const el of document.querySelectorAll('select')) {
      if (!seen(el)) continue;
      const cs = getComputedStyle(el);
      ctx.font = cs.font;
      // the option's text, the padding and ~16 px of drop-down arrow
      const need = ctx.measureText(el.selectedOptions[0]?.text ?? '').width + parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight) + 16;
      if (need > el.clientWidth) bad.push(`select[name=${el.name}] "${el.selectedOptions[0]?.text}": needs ${Math.ceil(need)} px, has ${el.clientWidth} px`);
    }
    return bad;
  });
}

/** Where the inspector's "learned from" column is, and whether all of it shows inside the table's scroll box and the viewport. */
function learnedFromColumn(page) {
  return page.evaluate(() => {
    const th = [...document.querySelectorAll('#insp-body th')].find((h) => h.textContent.trim() === 'learned from');
    if (!th) return null;
    const wrap = th.closest('.table-wrap').getBoundingClientRect();
    const b = th.getBoundingClientRect();
    const vw = document.documentElement.clientWidth;
    return { left: b.left, right: b.right, wrapRight: wrap.right, visible: b.width > 0 && b.left >= wrap.left - 1 && b.right <= wrap.right + 1 && b.right <= vw };
  });
}

/** The vertical gaps inside the chart card (between its edges and children) and above it (from the network card). */
function chartGaps(page) {
  return page.evaluate(() => {
    const card = document.querySelector('.charts');
    const c = card.getBoundingClientRect();
    const kids = [...card.children].filter((k) => k.getClientRects().length).map((k) => k.getBoundingClientRect());
    const gaps = [kids[0].top - c.top];
    for (let j = 1; j < kids.length; j++) gaps.push(kids[j].top - kids[j - 1].bottom);
    gaps.push(c.bottom - kids[kids.length - 1].bottom);
    const above = c.top - document.querySelector('.stage').getBoundingClientRect().bottom;
    return { inside: gaps, above };
  });
}

for (const vp of VIEWPORTS) {
  for (const [run, hash] of Object.entries(RUNS)) {
    test(`${vp.width}×${vp.height}, ${run}: the legend covers no node, no label is cut, no empty band in the chart card`, async () => {
      const page = await openLab(suite.browser, suite.server.url, hash, vp);
      await page.evaluate(() => window.gossipLab.setSpeed(10));
      await page.waitForTimeout(1200);
      await page.screenshot({ path: path.join(SHOTS, `layout-${vp.width}-${run}.png`) });
      const boxes = await page.evaluate(() => window.gossipLab.layoutBoxes());
      assert.ok(boxes.nodes.length >= 50, 'every node has a drawn position');
      assert.ok(boxes.legend.height > 0, 'the legend is shown');
      const covered = boxes.nodes.filter((n) => diskHitsBox(n, boxes.legend)).map((n) => n.i);
      assert.deepEqual(covered, [], 'nodes drawn under the legend');
      const outside = boxes.nodes.filter((n) => n.x - n.r < boxes.canvas.left || n.x + n.r > boxes.canvas.right || n.y - n.r < boxes.canvas.top || n.y + n.r > boxes.canvas.bottom).map((n) => n.i);
      assert.deepEqual(outside, [], 'nodes drawn past the network canvas');
      assert.deepEqual(await overflowing(page), [], 'labels whose text overflows');
      const gaps = await chartGaps(page);
      assert.ok(gaps.above <= 16, `an empty band of ${gaps.above} px above the chart card`);
      for (const g of gaps.inside) assert.ok(g <= 30, `an empty band of ${g} px inside the chart card: ${gaps.inside}`);
      assert.deepEqual(page.errors, []);
      await page.close();
    });
  }

  test(`${vp.width}×${vp.height}: the inspector opens beside the node clicked, inside the viewport, its favorites not cut`, async () => {
    const page = await openLab(suite.browser, suite.server.url, RUNS.movies, vp);
    await page.evaluate(() => window.gossipLab.setSpeed('max'));
    await page.waitForTimeout(800);
    await page.evaluate(() => window.gossipLab.pause());
    const { nodes } = await page.evaluate(() => window.gossipLab.layoutBoxes());
    // the lowest node (the inspector in the grid would be a screen below it),
    // the rightmost, the leftmost, and the one nearest the middle of the network
    const { canvas } = await page.evaluate(() => window.gossipLab.layoutBoxes());
    const mid = { x: (canvas.left + canvas.right) / 2, y: (canvas.top + canvas.bottom) / 2 };
    const far = (n) => (n.x - mid.x) ** 2 + (n.y - mid.y) ** 2;
    const pick = [
      nodes.reduce((a, b) => (b.y > a.y ? b : a)),
      nodes.reduce((a, b) => (b.x > a.x ? b : a)),
      nodes.reduce((a, b) => (b.x < a.x ? b : a)),
      nodes.reduce((a, b) => (far(b) < far(a) ? b : a)),
    ];
    for (const n of pick) {
      await page.keyboard.press('Escape'); // the network takes the whole canvas again
      await page.waitForTimeout(100);
      const before = (await page.evaluate(() => window.gossipLab.layoutBoxes())).nodes.find((m) => m.i === n.i);
      assert.ok(Math.abs(before.x - n.x) < 1 && Math.abs(before.y - n.y) < 1, `Escape gives the network its whole canvas back (node ${n.i} at ${before.x},${before.y}, first ${n.x},${n.y})`);
      await page.mouse.click(n.x, n.y);
      await page.waitForFunction((i) => document.getElementById('insp-title').textContent.startsWith(`#${i}`), n.i, { timeout: 5000 });
      await page.waitForTimeout(100);
      const b = await page.evaluate(() => window.gossipLab.layoutBoxes());
      const box = b.inspector.box;
      assert.ok(b.inspector.floating, 'the inspector floats beside the node');
      assert.ok(box.left >= 0 && box.top >= 0 && box.right <= b.viewport.width && box.bottom <= b.viewport.height, `inspector within the viewport: ${JSON.stringify(box)}`);
      // the network is laid out again beside it: every node in view, inside the canvas
      const hidden = b.nodes.filter((m) => diskHitsBox(m, box));
      assert.deepEqual(hidden.map((m) => m.i), [], `the inspector (${JSON.stringify(box)}) covers no node`);
      const outsideCanvas = b.nodes.filter((m) => m.x < b.canvas.left || m.x > b.canvas.right || m.y < b.canvas.top || m.y > b.canvas.bottom);
      assert.deepEqual(outsideCanvas.map((m) => m.i), [], 'every node drawn inside the canvas');
      const side = await page.evaluate(() => document.querySelector('.side').getBoundingClientRect().left);
      assert.ok(box.right <= side, `the inspector (right ${box.right}) leaves the side panel (left ${side}) uncovered`);
      // beside the network, on the clicked node's side, next to it
      const at = b.nodes.find((m) => m.i === n.i);
      const xs = b.nodes.map((m) => m.x);
      const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
      const onRight = box.left >= at.x;
      assert.ok(onRight ? at.x >= (lo + hi) / 2 - at.r : at.x <= (lo + hi) / 2 + at.r, `node ${n.i} (x ${at.x}, network ${lo}..${hi}) faces the inspector (${box.left}..${box.right})`);
      const gap = onRight ? box.left - hi : lo - box.right;
      assert.ok(gap >= 0 && gap <= at.r + 40, `the inspector is ${gap} px from the network`);
      assert.ok(at.y >= box.top - 60 && at.y <= box.bottom + 60, `node ${n.i} (y ${at.y}) beside the inspector (${box.top}..${box.bottom})`);
      assert.deepEqual(await overflowing(page), [], 'labels whose text overflows, inspector open');
      const col = await learnedFromColumn(page);
      assert.ok(col, 'the inspector lists the node\'s view with a "learned from" column');
      assert.ok(col.visible, `the "learned from" column (${col.left}..${col.right}) shows whole (table box ends at ${col.wrapRight})`);
      await page.screenshot({ path: path.join(SHOTS, `layout-${vp.width}-inspector-${n.i}.png`) });
    }
    // Escape puts it back in the grid
    await page.keyboard.press('Escape');
    const b = await page.evaluate(() => window.gossipLab.layoutBoxes());
    assert.equal(b.inspector.floating, false);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}
