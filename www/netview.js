// The network canvas: one dot per node, messages in flight along their
// links. It only draws what the wasm handle reports each frame; it keeps
// no per-node objects, only flat arrays.

const STALE_COLORS = ['#fde68a', '#fcd34d', '#fbbf24', '#f59e0b', '#f97316', '#ef4444'];
const UNINFORMED = '#5b6b8c';
const CURRENT = '#34d399';
const DOWN = '#394152';
const GROUP_HUES = [200, 330, 45, 270, 150, 10, 90, 240, 300, 20, 170, 60, 120, 350, 220, 280];

export class NetView {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.n = 0;
    this.xs = new Float32Array(0);
    this.ys = new Float32Array(0);
    this.r = 4;
    this.flights = []; // {from, to, t0, t1, vis1, upd, lost}
    this.flash = new Float64Array(0); // wall time of the last "became current"
    this.prev = new Uint32Array(0);
    this.selected = -1;
    this.hoverNode = -1;
    this.maxFlights = 4000;
    this.resize();
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const rect = this.canvas.getBoundingClientRect();
    this.w = Math.max(200, rect.width);
    this.h = Math.max(200, rect.height);
    this.canvas.width = Math.round(this.w * dpr);
    this.canvas.height = Math.round(this.h * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.layout(this.n);
  }

  // Positions: a ring for small networks, a sunflower disk for large ones
  // (index grows outwards, so partition groups, which are index ranges,
  // show as rings).
  layout(n) {
    const grow = n !== this.n;
    this.n = n;
    if (grow) {
      this.xs = new Float32Array(n);
      this.ys = new Float32Array(n);
      const f = new Float64Array(n);
      f.set(this.flash.subarray(0, Math.min(n, this.flash.length)));
      this.flash = f;
      const p = new Uint32Array(n);
      p.set(this.prev.subarray(0, Math.min(n, this.prev.length)));
      this.prev = p;
    }
    const cx = this.w / 2, cy = this.h / 2;
    const R = Math.min(this.w, this.h) / 2 - 26;
    if (n <= 64) {
      for (let i = 0; i < n; i++) {
        const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
        this.xs[i] = cx + R * Math.cos(a);
        this.ys[i] = cy + R * Math.sin(a);
      }
      this.r = Math.max(4, Math.min(11, (Math.PI * R / Math.max(n, 1)) * 0.55));
    } else {
      const golden = Math.PI * (3 - Math.sqrt(5));
      for (let i = 0; i < n; i++) {
        const rr = R * Math.sqrt((i + 0.5) / n);
        const a = i * golden;
        this.xs[i] = cx + rr * Math.cos(a);
        this.ys[i] = cy + rr * Math.sin(a);
      }
      this.r = Math.max(1.3, Math.min(8, (R / Math.sqrt(n)) * 0.78));
    }
  }

  // Add the flights the handle reported: flat [from, to, sent, arrives, upd]*.
  addFlights(flat, now, wallPerMs, model, intervalMs) {
    const minVisual = 320 / Math.max(wallPerMs, 1e-9); // at least ~0.3 s on screen, in virtual ms
    for (let k = 0; k + 4 < flat.length; k += 5) {
      if (this.flights.length >= this.maxFlights) { this.dropped = (this.dropped || 0) + (flat.length - k) / 5; break; }
      const from = flat[k], to = flat[k + 1], t0 = flat[k + 2];
      let t1 = flat[k + 3];
      const lost = t1 < 0;
      // rounds: an exchange completes inside its round; show it across part of the round
      if (model === 'rounds') t1 = t0 + intervalMs * 0.45;
      else if (lost) t1 = t0 + 60;
      const vis1 = Math.max(t1, t0 + minVisual);
      this.flights.push({ from, to, t0, t1, vis1, upd: flat[k + 4] > 0, lost });
    }
  }

  clearFlights() { this.flights.length = 0; }

  nodeAt(x, y) {
    let best = -1, bd = Infinity;
    const lim = Math.max(this.r * 2.2, 7) ** 2;
    for (let i = 0; i < this.n; i++) {
      const dx = this.xs[i] - x, dy = this.ys[i] - y, d = dx * dx + dy * dy;
      if (d < bd) { bd = d; best = i; }
    }
    return bd <= lim ? best : -1;
  }

  // status: Uint32Array (0 down, 1 current, 1+k behind by k origins);
  // groups: Uint16Array; origins: how many origins exist (to shade staleness).
  draw(status, groups, now, wall, opts) {
    const { ctx } = this;
    const n = status.length;
    if (n !== this.n) this.layout(n);
    ctx.clearRect(0, 0, this.w, this.h);
    const single = opts.single;
    const partitioned = groups && groups.some((g) => g !== 0);

    // flights: a faint link plus a moving dot
    if (!opts.hideFlights) {
      const keep = [];
      ctx.lineWidth = 1;
      const links = { upd: new Path2D(), ctl: new Path2D(), lost: new Path2D() };
      const dots = { upd: new Path2D(), ctl: new Path2D(), lost: new Path2D() };
      const dr = Math.max(1.6, Math.min(3.2, this.r * 0.45));
      for (const f of this.flights) {
        if (now > f.vis1 || f.from >= n || f.to >= n) continue;
        keep.push(f);
        const p = Math.max(0, Math.min(1, (now - f.t0) / (f.vis1 - f.t0)));
        const kind = f.lost ? 'lost' : f.upd ? 'upd' : 'ctl';
        const x0 = this.xs[f.from], y0 = this.ys[f.from], x1 = this.xs[f.to], y1 = this.ys[f.to];
        const reach = f.lost ? Math.min(p, 0.5) : p;
        links[kind].moveTo(x0, y0);
        links[kind].lineTo(x0 + (x1 - x0) * reach, y0 + (y1 - y0) * reach);
        if (!(f.lost && p > 0.5)) {
          const x = x0 + (x1 - x0) * reach, y = y0 + (y1 - y0) * reach;
          dots[kind].moveTo(x + dr, y);
          dots[kind].arc(x, y, dr, 0, Math.PI * 2);
        }
      }
      this.flights = keep;
      ctx.globalAlpha = 0.22;
      ctx.strokeStyle = '#64748b'; ctx.stroke(links.ctl);
      ctx.globalAlpha = 0.35;
      ctx.strokeStyle = '#7dd3fc'; ctx.stroke(links.upd);
      ctx.strokeStyle = '#f87171'; ctx.stroke(links.lost);
      ctx.globalAlpha = 1;
      ctx.fillStyle = '#94a3b8'; ctx.fill(dots.ctl);
      ctx.fillStyle = '#bae6fd'; ctx.fill(dots.upd);
      ctx.fillStyle = '#f87171'; ctx.fill(dots.lost);
    } else {
      this.flights.length = 0;
    }

    // nodes, batched by colour
    const buckets = new Map();
    const add = (color, i) => {
      let p = buckets.get(color);
      if (!p) { p = new Path2D(); buckets.set(color, p); }
      const r = this.r;
      p.moveTo(this.xs[i] + r, this.ys[i]);
      p.arc(this.xs[i], this.ys[i], r, 0, Math.PI * 2);
    };
    const origins = Math.max(1, opts.origins || 1);
    for (let i = 0; i < n; i++) {
      const s = status[i];
      let c;
      if (s === 0) c = DOWN;
      else if (s === 1) c = CURRENT;
      else if (single) c = UNINFORMED;
      else {
        const frac = (s - 1) / origins;
        const idx = Math.min(STALE_COLORS.length - 1, Math.floor(Math.sqrt(frac) * STALE_COLORS.length));
        c = STALE_COLORS[idx];
      }
      add(c, i);
      if (this.prev[i] > 1 && s === 1) this.flash[i] = wall;
      this.prev[i] = s;
    }
    for (const [color, p] of buckets) { ctx.fillStyle = color; ctx.fill(p); }

    // partition groups as coloured outlines
    if (partitioned) {
      const rings = new Map();
      for (let i = 0; i < n; i++) {
        const g = groups[i];
        let p = rings.get(g);
        if (!p) { p = new Path2D(); rings.set(g, p); }
        const r = this.r + 2;
        p.moveTo(this.xs[i] + r, this.ys[i]);
        p.arc(this.xs[i], this.ys[i], r, 0, Math.PI * 2);
      }
      ctx.lineWidth = Math.max(1, Math.min(2, this.r * 0.3));
      for (const [g, p] of rings) { ctx.strokeStyle = `hsl(${GROUP_HUES[g % GROUP_HUES.length]} 80% 65%)`; ctx.stroke(p); }
    }

    // crossed-out down nodes, when big enough to see
    if (this.r >= 3) {
      const x = new Path2D();
      const k = this.r * 0.55;
      for (let i = 0; i < n; i++) if (status[i] === 0) {
        x.moveTo(this.xs[i] - k, this.ys[i] - k); x.lineTo(this.xs[i] + k, this.ys[i] + k);
        x.moveTo(this.xs[i] + k, this.ys[i] - k); x.lineTo(this.xs[i] - k, this.ys[i] + k);
      }
      ctx.strokeStyle = '#9ca3af'; ctx.lineWidth = 1.2; ctx.stroke(x);
    }

    // a ring that fades when a node catches up
    const glow = new Path2D();
    let any = false;
    for (let i = 0; i < n; i++) {
      const age = wall - this.flash[i];
      if (this.flash[i] > 0 && age < 450) {
        const r = this.r + 2 + (age / 450) * this.r * 1.8;
        glow.moveTo(this.xs[i] + r, this.ys[i]);
        glow.arc(this.xs[i], this.ys[i], r, 0, Math.PI * 2);
        any = true;
      }
    }
    if (any) { ctx.strokeStyle = 'rgba(52, 211, 153, .55)'; ctx.lineWidth = 1.5; ctx.stroke(glow); }

    // labels for small networks
    if (n <= 64 && this.r >= 6) {
      ctx.fillStyle = '#0b1020';
      ctx.font = `600 ${Math.round(this.r * 0.95)}px ui-sans-serif, system-ui, sans-serif`;
      ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
      for (let i = 0; i < n; i++) if (status[i] !== 0) ctx.fillText(String(i), this.xs[i], this.ys[i] + 0.5);
    }

    for (const [i, color, w] of [[this.hoverNode, 'rgba(255,255,255,.5)', 1.5], [this.selected, '#ffffff', 2.5]]) {
      if (i >= 0 && i < n) {
        ctx.beginPath();
        ctx.arc(this.xs[i], this.ys[i], this.r + 4, 0, Math.PI * 2);
        ctx.strokeStyle = color; ctx.lineWidth = w; ctx.stroke();
      }
    }
  }
}
