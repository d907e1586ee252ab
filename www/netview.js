// The network canvas: one dot per node, messages in flight along their
// links. It only draws what the wasm handle reports each frame; it keeps
// no per-node objects, only flat arrays.

const STALE_COLORS = ['#fde68a', '#fcd34d', '#fbbf24', '#f59e0b', '#f97316', '#ef4444'];
const UNINFORMED = '#5b6b8c';
const CURRENT = '#34d399';
const DOWN = '#394152';
const GROUP_HUES = [200, 330, 45, 270, 150, 10, 90, 240, 300, 20, 170, 60, 120, 350, 220, 280];

// '#rrggbb' -> 0x00bbggrr (little-endian RGBA in a Uint32Array, alpha added per pixel)
function rgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return ((v & 0xff) << 16) | (v & 0xff00) | ((v >> 16) & 0xff);
}

function hsl(h, s, l) {
  const a = s * Math.min(l, 1 - l);
  const f = (n) => { const k = (n + h / 30) % 12; return l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1)); };
  return '#' + [f(0), f(8), f(4)].map((x) => Math.round(x * 255).toString(16).padStart(2, '0')).join('');
}

// Pixel offsets and coverage (0..255) of an anti-aliased disc (or ring) of radius r.
function stamp(r, inner = -1) {
  const out = [];
  const R = Math.ceil(r + 1);
  for (let dy = -R; dy <= R; dy++) {
    for (let dx = -R; dx <= R; dx++) {
      const d = Math.hypot(dx, dy);
      let a = Math.max(0, Math.min(1, r + 0.5 - d));
      if (inner >= 0) a = Math.min(a, Math.max(0, Math.min(1, d - inner + 0.5)));
      if (a > 0) out.push(dx, dy, Math.round(a * 255));
    }
  }
  return out;
}

/** Size a canvas's backing store to its CSS box at the device pixel ratio
 * (at least minW × minH CSS px); returns [width, height] in CSS px. */
export function fitCanvas(canvas, minW, minH) {
  const dpr = window.devicePixelRatio || 1;
  const rect = canvas.getBoundingClientRect();
  const w = Math.max(minW, rect.width), h = Math.max(minH, rect.height);
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  canvas.getContext('2d').setTransform(dpr, 0, 0, dpr, 0, 0);
  return [w, h];
}

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
    this.maxFlights = 1500;
    this.kinds = new Uint8Array(0); // 0 virtual, 1 native, 2 another page's virtual node, 3 gateway
    this.labels = new Map(); // native node index -> [label, detail]
    this.resize();
  }

  // Which nodes are real (drawn apart, as squares) and which virtual nodes
  // are gateways; `labels`: index -> [name, detail] for real nodes.
  setKinds(kinds, labels) {
    this.labels = labels || new Map();
    const same = kinds.length === this.kinds.length && kinds.every((k, i) => (k === 1 || k === 2) === (this.kinds[i] === 1 || this.kinds[i] === 2));
    this.kinds = kinds;
    if (!same) this.layout(this.n, true);
  }

  isOutside(i) { const k = this.kinds[i]; return k === 1 || k === 2; }

  resize() {
    [this.w, this.h] = fitCanvas(this.canvas, 200, 200);
    this.layout(this.n);
  }

  // Positions: a ring for small networks, a sunflower disk for large ones
  // (index grows outwards, so partition groups, which are index ranges,
  // show as rings).
  layout(n, force = false) {
    const grow = n !== this.n || force;
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
    // real nodes, if any, stand in a column on the right; the virtual
    // network keeps the rest of the canvas
    const outside = [], inside = [];
    for (let i = 0; i < n; i++) (this.isOutside(i) ? outside : inside).push(i);
    const col = outside.length ? Math.min(190, this.w * 0.28) : 0;
    this.column = col ? { x: this.w - col, w: col } : null;
    const cx = (this.w - col) / 2, cy = this.h / 2;
    const R = Math.min(this.w - col, this.h) / 2 - 26;
    const m = inside.length;
    if (m <= 64) {
      inside.forEach((i, j) => {
        const a = -Math.PI / 2 + (2 * Math.PI * j) / m;
        this.xs[i] = cx + R * Math.cos(a);
        this.ys[i] = cy + R * Math.sin(a);
      });
      this.r = Math.max(4, Math.min(11, (Math.PI * R / Math.max(m, 1)) * 0.55));
    } else {
      const golden = Math.PI * (3 - Math.sqrt(5));
      inside.forEach((i, j) => {
        const rr = R * Math.sqrt((j + 0.5) / m);
        const a = j * golden;
        this.xs[i] = cx + rr * Math.cos(a);
        this.ys[i] = cy + rr * Math.sin(a);
      });
      this.r = Math.max(1.3, Math.min(8, (R / Math.sqrt(m)) * 0.78));
    }
    const top = 54, bottom = this.h - 50;
    const step = Math.min(56, (bottom - top) / Math.max(1, outside.length));
    this.sq = Math.max(5, Math.min(11, step * 0.32));
    outside.forEach((i, j) => {
      this.xs[i] = this.w - col + 26;
      this.ys[i] = top + step * (j + 0.5);
    });
  }

  // The column of real nodes: a frame, and each node as a square with its
  // name and round-trip time.
  drawOutside(status, colorOf) {
    if (!this.column) return;
    const { ctx } = this;
    const { x, w } = this.column;
    ctx.save();
    ctx.strokeStyle = 'rgba(148, 163, 184, .35)';
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.roundRect(x + 6, 12, w - 14, this.h - 52, 10);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#94a3b8';
    ctx.font = '600 11px ui-sans-serif, system-ui, sans-serif';
    ctx.textAlign = 'left'; ctx.textBaseline = 'middle';
    ctx.fillText('REAL NODES (HTTP)', x + 16, 28);
    ctx.fillStyle = '#6b7897';
    ctx.font = '10px ui-sans-serif, system-ui, sans-serif';
    ctx.fillText('colour: how current its view is', x + 16, 42, w - 30);
    const s = this.sq;
    for (let i = 0; i < this.n; i++) {
      if (!this.isOutside(i)) continue;
      const px = this.xs[i], py = this.ys[i];
      ctx.fillStyle = colorOf(status[i]);
      if (this.kinds[i] === 1) {
        ctx.beginPath(); ctx.roundRect(px - s, py - s, 2 * s, 2 * s, 3); ctx.fill();
        ctx.strokeStyle = '#e2e8f0'; ctx.lineWidth = 1.5; ctx.stroke();
      } else {
        ctx.beginPath(); ctx.moveTo(px, py - s); ctx.lineTo(px + s, py); ctx.lineTo(px, py + s); ctx.lineTo(px - s, py); ctx.closePath(); ctx.fill();
      }
      const [name, detail] = this.labels.get(i) || [`#${i}`, ''];
      ctx.fillStyle = status[i] === 0 ? '#6b7897' : '#e2e8f0';
      ctx.font = '600 12px ui-sans-serif, system-ui, sans-serif';
      ctx.fillText(name, px + s + 8, py - 6, w - 2 * s - 40);
      ctx.fillStyle = '#8a97b3';
      ctx.font = '11px ui-monospace, Menlo, monospace';
      ctx.fillText(detail, px + s + 8, py + 8, w - 2 * s - 40);
    }
    ctx.restore();
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

  drawBitmap(status, groups, partitioned, colorOf) {
    const { ctx, canvas } = this;
    const W = canvas.width, H = canvas.height;
    const dpr = W / this.w;
    if (!this.img || this.img.width !== W || this.img.height !== H) {
      this.img = ctx.createImageData(W, H);
      this.buf = new Uint32Array(this.img.data.buffer);
    }
    const key = `${this.r * dpr}`;
    if (this.stampKey !== key) {
      this.stampKey = key;
      this.disc = stamp(this.r * dpr);
      this.ring = stamp(this.r * dpr + 1.6 * dpr, this.r * dpr + 0.6 * dpr);
    }
    const buf = this.buf;
    buf.fill(0);
    const put = (st, color, i) => {
      const cx = Math.round(this.xs[i] * dpr), cy = Math.round(this.ys[i] * dpr);
      for (let k = 0; k < st.length; k += 3) {
        const x = cx + st[k], y = cy + st[k + 1];
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        const idx = y * W + x;
        const a = st[k + 2];
        if (a > buf[idx] >>> 24) buf[idx] = (a << 24) | color;
      }
    };
    const colors = new Map();
    const packed = (c) => { let v = colors.get(c); if (v === undefined) { v = rgb(c); colors.set(c, v); } return v; };
    if (partitioned) for (let i = 0; i < this.n; i++) if (!this.isOutside(i)) put(this.ring, packed(hsl(GROUP_HUES[groups[i] % GROUP_HUES.length], 0.8, 0.65)), i);
    for (let i = 0; i < this.n; i++) if (!this.isOutside(i)) put(this.disc, packed(colorOf(status[i])), i);
    ctx.putImageData(this.img, 0, 0);
  }

  nodeAt(x, y) {
    let best = -1, bd = Infinity;
    const lim = Math.max(this.r * 2.2, 7) ** 2;
    for (let i = 0; i < this.n; i++) {
      const dx = this.xs[i] - x, dy = this.ys[i] - y;
      // real nodes are bigger
      const d = (dx * dx + dy * dy) * (this.isOutside(i) ? lim / Math.max(lim, (this.sq * 2.2) ** 2) : 1);
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

    // nodes: vector paths for small networks (crisp, labelled), a bitmap for
    // large ones (thousands of paths are slow to rasterise without a GPU)
    const origins = Math.max(1, opts.origins || 1);
    const colorOf = (s) => {
      if (s === 0) return DOWN;
      if (s === 1) return CURRENT;
      if (single) return UNINFORMED;
      const frac = (s - 1) / origins;
      return STALE_COLORS[Math.min(STALE_COLORS.length - 1, Math.floor(Math.sqrt(frac) * STALE_COLORS.length))];
    };
    for (let i = 0; i < n; i++) {
      const s = status[i];
      if (this.prev[i] > 1 && s === 1) this.flash[i] = wall;
      this.prev[i] = s;
    }
    if (n > 200) this.drawBitmap(status, groups, partitioned, colorOf);
    else {
      const buckets = new Map();
      for (let i = 0; i < n; i++) {
        if (this.isOutside(i)) continue;
        const c = colorOf(status[i]);
        let p = buckets.get(c);
        if (!p) { p = new Path2D(); buckets.set(c, p); }
        p.moveTo(this.xs[i] + this.r, this.ys[i]);
        p.arc(this.xs[i], this.ys[i], this.r, 0, Math.PI * 2);
      }
      for (const [color, p] of buckets) { ctx.fillStyle = color; ctx.fill(p); }
      if (partitioned) {
        const rings = new Map();
        for (let i = 0; i < n; i++) {
          if (this.isOutside(i)) continue;
          const g = groups[i];
          let p = rings.get(g);
          if (!p) { p = new Path2D(); rings.set(g, p); }
          const r = this.r + 2;
          p.moveTo(this.xs[i] + r, this.ys[i]);
          p.arc(this.xs[i], this.ys[i], r, 0, Math.PI * 2);
        }
        ctx.lineWidth = Math.max(1, Math.min(2, this.r * 0.3));
        for (const [g, p] of rings) { ctx.strokeStyle = hsl(GROUP_HUES[g % GROUP_HUES.length], 0.8, 0.65); ctx.stroke(p); }
      }
    }

    // flights: a faint link plus a moving dot
    if (!opts.hideFlights) {
      const keep = [];
      ctx.lineWidth = 1;
      const links = { upd: new Path2D(), ctl: new Path2D(), lost: new Path2D() };
      const dots = { upd: new Path2D(), ctl: new Path2D(), lost: new Path2D() };
      const dr = Math.max(1.6, Math.min(3.2, this.r * 0.45));
      const drawLinks = this.flights.length < 800;
      for (const f of this.flights) {
        if (now > f.vis1 || f.from >= n || f.to >= n) continue;
        keep.push(f);
        const p = Math.max(0, Math.min(1, (now - f.t0) / (f.vis1 - f.t0)));
        const kind = f.lost ? 'lost' : f.upd ? 'upd' : 'ctl';
        const x0 = this.xs[f.from], y0 = this.ys[f.from], x1 = this.xs[f.to], y1 = this.ys[f.to];
        const reach = f.lost ? Math.min(p, 0.5) : p;
        if (drawLinks) {
          // a short comet tail behind the message
          const tail = Math.max(0, reach - 0.3);
          links[kind].moveTo(x0 + (x1 - x0) * tail, y0 + (y1 - y0) * tail);
          links[kind].lineTo(x0 + (x1 - x0) * reach, y0 + (y1 - y0) * reach);
        }
        if (!(f.lost && p > 0.5)) {
          const x = x0 + (x1 - x0) * reach, y = y0 + (y1 - y0) * reach;
          dots[kind].moveTo(x + dr, y);
          dots[kind].arc(x, y, dr, 0, Math.PI * 2);
        }
      }
      this.flights = keep;
      ctx.lineWidth = Math.max(1, dr * 0.8);
      ctx.globalAlpha = 0.35;
      ctx.strokeStyle = '#64748b'; ctx.stroke(links.ctl);
      ctx.globalAlpha = 0.5;
      ctx.strokeStyle = '#7dd3fc'; ctx.stroke(links.upd);
      ctx.strokeStyle = '#f87171'; ctx.stroke(links.lost);
      ctx.globalAlpha = 1;
      ctx.fillStyle = '#94a3b8'; ctx.fill(dots.ctl);
      ctx.fillStyle = '#bae6fd'; ctx.fill(dots.upd);
      ctx.fillStyle = '#f87171'; ctx.fill(dots.lost);
    } else {
      this.flights.length = 0;
    }

    this.drawOutside(status, colorOf);

    // gateways: the virtual nodes that talk to real ones
    const gw = new Path2D();
    let gws = false;
    for (let i = 0; i < n; i++) if (this.kinds[i] === 3) {
      const r = this.r + 3.5;
      gw.moveTo(this.xs[i] + r, this.ys[i]);
      gw.arc(this.xs[i], this.ys[i], r, 0, Math.PI * 2);
      gws = true;
    }
    if (gws) { ctx.setLineDash([3, 2]); ctx.strokeStyle = '#7dd3fc'; ctx.lineWidth = 1.5; ctx.stroke(gw); ctx.setLineDash([]); }

    // crossed-out down nodes, when big enough to see
    if (this.r >= 3) {
      const x = new Path2D();
      const k = this.r * 0.55;
      for (let i = 0; i < n; i++) if (status[i] === 0 && !this.isOutside(i)) {
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
      for (let i = 0; i < n; i++) if (status[i] !== 0 && !this.isOutside(i)) ctx.fillText(String(i), this.xs[i], this.ys[i] + 0.5);
    }

    for (const [i, color, w] of [[this.hoverNode, 'rgba(255,255,255,.5)', 1.5], [this.selected, '#ffffff', 2.5]]) {
      if (i >= 0 && i < n) {
        ctx.beginPath();
        ctx.arc(this.xs[i], this.ys[i], (this.isOutside(i) ? this.sq * 1.42 : this.r) + 4, 0, Math.PI * 2);
        ctx.strokeStyle = color; ctx.lineWidth = w; ctx.stroke();
      }
    }
  }
}
