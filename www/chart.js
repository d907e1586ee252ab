import { fitCanvas } from './netview.js';

// The convergence chart: one line per update (fraction of live nodes that
// know it, against its age, as the run recorded it in virtual time), or with
// many updates a band of quantiles across them plus a few highlighted lines;
// the mean-field curve dashed on top, with a note when it does not apply;
// in compare mode the other run's lines in orange.
//
// What is drawn is first laid out as a scene (chartScene: grid lines and
// labels in pixels, curves in data coordinates), which two painters read:
// the canvas (Chart) and the SVG export (chartsvg.js), so the exported
// picture is the chart's, path for path.

/** The plot's margins in CSS pixels: left, right, top, bottom. */
export const MARGIN = { L: 44, R: 12, T: 10, B: 26 };

const GRID = '31, 42, 68';
const LABEL = '107, 120, 151';
const NOTE = '240, 171, 252';
const UPDATE_DONE = '125, 211, 252';
const UPDATE_OPEN = '52, 211, 153';
const COMPARE = '251, 146, 60';

/**
 * The chart of `view` (spread.js's `{ curves, band, updates }`), `theory`
 * (`[[age_ms, fraction]]`) and the compared run's `compare` curves, on an
 * axis of `maxAge` ms, in a `w` x `h` pixel box. Returns `{ w, h, maxAge,
 * plot: { x, y, w, h }, items }`; an item is
 * `{ type: 'grid', x1, y1, x2, y2 }` (pixels),
 * `{ type: 'text', x, y, text, align, base, color }` (pixels; align
 * left|center|right, base top|middle|bottom),
 * `{ type: 'area', upper, lower, color, alpha }` or
 * `{ type: 'line', role, points, color, alpha, width, dash }` (`points`:
 * `[[age_ms, fraction]]`, ages beyond `maxAge` drawn at its edge; role:
 * band-median, update, theory or compare). Colors are `'r, g, b'`.
 */
export function chartScene(view, theory, maxAge, note, w, h, compare = []) {
  const { L, R, T, B } = MARGIN;
  const pw = w - L - R, ph = h - T - B;
  const X = (t) => L + (Math.min(t, maxAge) / maxAge) * pw;
  const Y = (f) => T + (1 - f) * ph;
  const items = [];
  const text = (x, y, s, align, base, color = LABEL) => items.push({ type: 'text', x, y, text: s, align, base, color });
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    items.push({ type: 'grid', x1: L, y1: Y(f), x2: L + pw, y2: Y(f) });
    text(L - 6, Y(f), `${Math.round(f * 100)}%`, 'right', 'middle');
  }
  const stepS = niceStep(maxAge / 1000 / 6);
  for (let s = 0; s * 1000 <= maxAge + 1e-6; s += stepS) {
    const x = X(s * 1000);
    items.push({ type: 'grid', x1: x, y1: T, x2: x, y2: T + ph });
    text(x, T + ph + 6, `${+s.toFixed(2)} s`, 'center', 'top');
  }
  // many updates: the band between the outer quantiles, the median line
  const band = view.band;
  if (band && band.ages.length) {
    const lo = band.q[0], mid = band.q[Math.floor(band.q.length / 2)], hi = band.q[band.q.length - 1];
    const rows = band.ages.map((a, k) => k).filter((k) => lo[k] !== null);
    if (rows.length) {
      const at = (q) => rows.map((k) => [band.ages[k], q[k]]);
      items.push({ type: 'area', upper: at(hi), lower: at(lo), color: UPDATE_DONE, alpha: 0.22 });
      items.push({ type: 'line', role: 'band-median', points: at(mid), color: UPDATE_DONE, alpha: 0.9, width: 1.5, dash: [2, 2] });
    }
  }
  // updates, oldest faintest
  const m = view.curves.length;
  view.curves.forEach((u, j) => {
    if (u.points.length < 1) return;
    const a = 0.18 + 0.62 * ((j + 1) / m);
    items.push(u.done
      ? { type: 'line', role: 'update', points: u.points, color: UPDATE_DONE, alpha: a, width: 1.2, dash: null }
      : { type: 'line', role: 'update', points: u.points, color: UPDATE_OPEN, alpha: Math.min(1, a + 0.2), width: 2, dash: null });
  });
  // captions at the bottom right, after the curves: the corner a spreading
  // update leaves first (curves rise from the bottom left to the top)
  if (note) text(L + pw - 4, T + ph - 4, note, 'right', 'bottom', NOTE);
  if (band && band.ages.length) {
    const caption = `${view.updates.toLocaleString('en-US')} updates: band ${band.quantiles.map((x) => `${x * 100}`).join('/')} % across updates, lines: first, slowest, latest`;
    text(L + pw - 4, T + ph - (note ? 20 : 4), caption, 'right', 'bottom', '138, 151, 179');
  }
  if (theory && theory.length) items.push({ type: 'line', role: 'theory', points: theory, color: NOTE, alpha: 1, width: 2, dash: [6, 4] });
  items.push(...compareLines(compare));
  return { w, h, maxAge, plot: { x: L, y: T, w: pw, h: ph }, items };
}

/** The compared run's curves (same shape as the view's), in orange. */
function compareLines(series) {
  const m = series.length;
  return series.filter((u) => u.points.length).map((u, j) => ({
    type: 'line', role: 'compare', points: u.points, color: COMPARE,
    alpha: u.done ? 0.25 + 0.55 * ((j + 1) / m) : 1, width: u.done ? 1.2 : 2, dash: null,
  }));
}

export class Chart {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.resize();
  }

  resize() {
    [this.w, this.h] = fitCanvas(this.canvas, 200, 120);
  }

  // view: SpreadMirror.view(now) (spread.js): `curves` [{ points: [[age_ms, fraction]], done }]
  // and, with many updates, `band` (quantiles across updates at each age);
  // theory: [[age_ms, fraction]]; note: why the theory does not apply, or ''.
  draw(view, theory, maxAge, note = '') {
    const scene = chartScene(view, theory, maxAge, note, this.w, this.h);
    this.scene = scene; // for overlay()
    this.ctx.clearRect(0, 0, this.w, this.h);
    paint(this.ctx, scene, scene.items);
  }
}

// Compare mode: another run's updates (same shape as draw's series) over
// the last draw, on its axes, in orange.
Chart.prototype.overlay = function overlay(series) {
  if (this.scene) paint(this.ctx, this.scene, compareLines(series));
};

/** Paint scene items on a 2D canvas context. */
function paint(ctx, scene, items) {
  const { plot, maxAge } = scene;
  const X = (t) => plot.x + (Math.min(t, maxAge) / maxAge) * plot.w;
  const Y = (f) => plot.y + (1 - f) * plot.h;
  const rgba = (c, a = 1) => `rgba(${c}, ${a})`;
  ctx.font = '11px ui-sans-serif, system-ui, sans-serif';
  for (const it of items) {
    if (it.type === 'grid') {
      ctx.strokeStyle = rgba(GRID); ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(it.x1, it.y1); ctx.lineTo(it.x2, it.y2); ctx.stroke();
    } else if (it.type === 'text') {
      ctx.fillStyle = rgba(it.color); ctx.textAlign = it.align; ctx.textBaseline = it.base;
      ctx.fillText(it.text, it.x, it.y);
    } else if (it.type === 'area') {
      ctx.beginPath();
      it.upper.forEach(([t, f], j) => (j ? ctx.lineTo : ctx.moveTo).call(ctx, X(t), Y(f)));
      for (let j = it.lower.length - 1; j >= 0; j--) ctx.lineTo(X(it.lower[j][0]), Y(it.lower[j][1]));
      ctx.closePath(); ctx.fillStyle = rgba(it.color, it.alpha); ctx.fill();
    } else if (it.type === 'line') {
      ctx.beginPath();
      it.points.forEach(([t, f], j) => (j ? ctx.lineTo : ctx.moveTo).call(ctx, X(t), Y(f)));
      ctx.strokeStyle = rgba(it.color, it.alpha); ctx.lineWidth = it.width;
      ctx.setLineDash(it.dash || []); ctx.stroke(); ctx.setLineDash([]);
    }
  }
}

function niceStep(x) {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(x, 1e-6))));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}
