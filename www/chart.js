import { fitCanvas } from './netview.js';

// The convergence chart: one line per update (fraction of live nodes that
// know it, against its age, as the run recorded it in virtual time), or with
// many updates a band of quantiles across them plus a few highlighted lines;
// the mean-field curve dashed on top, with a note when it does not apply.

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
    const { ctx, w, h } = this;
    const L = 44, R = 12, T = 10, B = 26;
    const pw = w - L - R, ph = h - T - B;
    ctx.clearRect(0, 0, w, h);
    const X = (t) => L + (Math.min(t, maxAge) / maxAge) * pw;
    const Y = (f) => T + (1 - f) * ph;
    this.geom = { X, Y }; // for overlay()
    // grid
    ctx.strokeStyle = '#1f2a44'; ctx.lineWidth = 1;
    ctx.fillStyle = '#6b7897'; ctx.font = '11px ui-sans-serif, system-ui, sans-serif';
    ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      ctx.beginPath(); ctx.moveTo(L, Y(f)); ctx.lineTo(L + pw, Y(f)); ctx.stroke();
      ctx.fillText(`${Math.round(f * 100)}%`, L - 6, Y(f));
    }
    const stepS = niceStep(maxAge / 1000 / 6);
    ctx.textAlign = 'center'; ctx.textBaseline = 'top';
    for (let s = 0; s * 1000 <= maxAge + 1e-6; s += stepS) {
      const x = X(s * 1000);
      ctx.beginPath(); ctx.moveTo(x, T); ctx.lineTo(x, T + ph); ctx.stroke();
      ctx.fillText(`${+s.toFixed(2)} s`, x, T + ph + 6);
    }
    // many updates: the band between the outer quantiles, the median line
    const band = view.band;
    if (band && band.ages.length) {
      const lo = band.q[0], mid = band.q[Math.floor(band.q.length / 2)], hi = band.q[band.q.length - 1];
      const rows = band.ages.map((a, k) => k).filter((k) => lo[k] !== null);
      if (rows.length) {
        ctx.beginPath();
        rows.forEach((k, j) => (j ? ctx.lineTo : ctx.moveTo).call(ctx, X(band.ages[k]), Y(hi[k])));
        for (let j = rows.length - 1; j >= 0; j--) ctx.lineTo(X(band.ages[rows[j]]), Y(lo[rows[j]]));
        ctx.closePath(); ctx.fillStyle = 'rgba(125, 211, 252, 0.22)'; ctx.fill();
        ctx.beginPath();
        rows.forEach((k, j) => (j ? ctx.lineTo : ctx.moveTo).call(ctx, X(band.ages[k]), Y(mid[k])));
        ctx.strokeStyle = 'rgba(125, 211, 252, 0.9)'; ctx.lineWidth = 1.5; ctx.setLineDash([2, 2]); ctx.stroke(); ctx.setLineDash([]);
      }
      ctx.fillStyle = '#8a97b3'; ctx.textAlign = 'left'; ctx.textBaseline = 'top';
      ctx.fillText(`${view.updates.toLocaleString('en-US')} updates: band ${band.quantiles.map((x) => `${x * 100}`).join('/')} % across updates, lines: first, slowest, latest`, L + 6, T + 4);
    }
    // updates, oldest faintest
    const series = view.curves;
    const m = series.length;
    series.forEach((u, j) => {
      if (u.points.length < 1) return;
      ctx.beginPath();
      ctx.moveTo(X(u.points[0][0]), Y(u.points[0][1]));
      for (const [t, f] of u.points) ctx.lineTo(X(t), Y(f));
      const a = 0.18 + 0.62 * ((j + 1) / m);
      ctx.strokeStyle = u.done ? `rgba(125, 211, 252, ${a})` : `rgba(52, 211, 153, ${Math.min(1, a + 0.2)})`;
      ctx.lineWidth = u.done ? 1.2 : 2;
      ctx.stroke();
    });
    if (note) {
      ctx.fillStyle = '#f0abfc'; ctx.textAlign = 'right'; ctx.textBaseline = 'bottom';
      ctx.fillText(note, L + pw - 4, T + ph - 4);
    }
    // theory
    if (theory && theory.length) {
      ctx.beginPath();
      ctx.moveTo(X(theory[0][0]), Y(theory[0][1]));
      for (const [t, f] of theory) ctx.lineTo(X(t), Y(f));
      ctx.setLineDash([6, 4]); ctx.strokeStyle = '#f0abfc'; ctx.lineWidth = 2; ctx.stroke(); ctx.setLineDash([]);
    }
  }
}

// Compare mode: another run's updates (same shape as draw's series) over
// the last draw, on its axes, in orange.
Chart.prototype.overlay = function overlay(series, color = '251, 146, 60') {
  const { ctx } = this;
  if (!this.geom) return;
  const { X, Y } = this.geom;
  const m = series.length;
  series.forEach((u, j) => {
    if (!u.points.length) return;
    ctx.beginPath();
    ctx.moveTo(X(u.points[0][0]), Y(u.points[0][1]));
    for (const [t, f] of u.points) ctx.lineTo(X(t), Y(f));
    ctx.strokeStyle = `rgba(${color}, ${u.done ? 0.25 + 0.55 * ((j + 1) / m) : 1})`;
    ctx.lineWidth = u.done ? 1.2 : 2;
    ctx.stroke();
  });
};

function niceStep(x) {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(x, 1e-6))));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}
