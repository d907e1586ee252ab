// The network canvas: one dot per node, messages in flight along their
// links. It only draws what the wasm handle reports each frame; it keeps
// no per-node objects, only flat arrays.
//
// Level of detail: when nodes are too small to tell apart (a drawn radius
// under LOD_R px, about 7,500 nodes and up at the default zoom), the disk is
// drawn as cells of ~8 nodes coloured by the mix of their states, and the
// messages as flows between ~30 regions (width: messages per second, dashes
// moving in the direction of travel) instead of thousands of comets. The
// wheel (or a click on a cell) zooms in until nodes are big enough to draw,
// hover, click and inspect one by one; a drag pans, a double-click resets.
//
// Node codes are the wasm module's enums: `Status` (Down, Current, and
// Current + k for a node k origins behind) and `Kind`; `Flight` names the
// places in a message's record.
//
// SWIM runs: with a member selected, nodes are coloured by what it holds
// about them (`Seen`: alive, suspect, dead, unknown; a node that is really
// down is still crossed out), and an amber ring marks each node other
// members suspect (its width grows with how many; the count is written
// when nodes are big enough). Overlay runs: every link between up nodes,
// lazy ones faint, Plumtree's eager ones (the tree) bold (`Link` places).

import { Status, Kind, Flight, Seen, Link } from './pkg/gossip.js';
import { anyNonZero } from './pace.js';

const STALE_COLORS = ['#fde68a', '#fcd34d', '#fbbf24', '#f59e0b', '#f97316', '#ef4444'];
// not informed yet (up, the rumor has not reached it): its own colour, never the down grey
const UNINFORMED = '#a78bfa';
const CURRENT = '#34d399';
const DOWN = '#394152';
const LOD_R = 2.6; // drawn node radius (CSS px) under which nodes are aggregated
const MAX_ZOOM = 48;
const CELL_PX = 8; // pixels per cell side in the cell bitmap (7 and a gap)
const FLOW_TAU_MS = 450; // flows: how long a message counts (wall ms, exponential decay)
const MAX_FLOWS = 90;
const REGIONS = 5; // flows: the disk is cut into REGIONS x REGIONS regions (about 21 inside it)
const SEEN_BASE = 1 << 20; // paint codes of a SWIM member's view: SEEN_BASE + its Seen code
const SEEN_COLORS = { [Seen.Alive]: CURRENT, [Seen.Suspect]: '#f59e0b', [Seen.Dead]: '#ef4444', [Seen.Unknown]: UNINFORMED };
const GROUP_HUES = [200, 330, 45, 270, 150, 10, 90, 240, 300, 20, 170, 60, 120, 350, 220, 280];

// Real nodes and other pages' virtual nodes: drawn apart, in their own column.
const outside = (k) => k === Kind.Native || k === Kind.RemoteVirtual;
/** The real nodes among the first `n` of `kinds`, and their kinds, as a string (a plain loop: a million nodes). */
function outsideKey(kinds, n) {
  let key = '';
  for (let i = 0, m = Math.min(n, kinds.length); i < m; i++) if (outside(kinds[i])) key += `${i}:${kinds[i]},`;
  return key;
}
const MIN_ROW_PX = 26; // the real-node column's rows are never tighter than this: the rest are folded

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

// A stamp split into opaque row runs [dy, dx0, dx1 (exclusive)]* and the
// remaining edge pixels [dx, dy, coverage]* (a run overwrites whatever is
// under it, which is what the coverage rule would do at full coverage).
function spans(st) {
  const runs = [], edge = [];
  for (let k = 0; k < st.length; k += 3) {
    const dx = st[k], dy = st[k + 1], a = st[k + 2];
    if (a < 255) { edge.push(dx, dy, a); continue; }
    const n = runs.length;
    if (n && runs[n - 3] === dy && runs[n - 1] === dx) runs[n - 1] = dx + 1;
    else runs.push(dy, dx, dx + 1);
  }
  return { runs, edge };
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

// When message `k` of a flat flight array arrives as drawn: in rounds an
// exchange completes inside its round (shown across part of it), a lost
// message fades 60 ms after it left.
function drawnArrival(flat, k, model, intervalMs) {
  const t0 = flat[k + Flight.Sent], t1 = flat[k + Flight.Arrives];
  if (model === 'rounds') return t0 + intervalMs * 0.45;
  return t1 < 0 ? t0 + 60 : t1;
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
    this.kinds = new Uint8Array(0); // a Kind per node
    this.labels = new Map(); // native node index -> [label, detail]
    this.view = { k: 1, tx: 0, ty: 0 }; // zoom: screen = world * k + t (virtual nodes only)
    this.reserve = { left: 0, right: 0 }; // CSS px kept free of virtual nodes on each side (setReserve)
    this.sx = new Float32Array(0); // node positions on screen, this frame
    this.sy = new Float32Array(0);
    this.flow = new Float32Array(0); // messages per region pair, decayed
    this.flowUpd = new Float32Array(0);
    this.flowLost = new Float32Array(0);
    this.lastFlowWall = 0;
    this.resize();
  }

  // Which nodes are real (drawn apart, as squares) and which virtual nodes
  // are gateways; `labels`: index -> [name, detail] for real nodes.
  setKinds(kinds, labels) {
    this.labels = labels || new Map();
    // laid out again only if the real nodes among the n laid out changed
    // (which, and their kinds: natives come first in the column); a new
    // run's kinds were laid out once already when its size was (a million
    // nodes: a second layout was a third of configuring)
    const same = outsideKey(kinds, this.n) === outsideKey(this.kinds, this.n);
    this.kinds = kinds;
    if (!same) this.layout(this.n, true);
  }

  isOutside(i) { return outside(this.kinds[i]); }

  /**
   * Keep `left` and `right` CSS px of the canvas free of virtual nodes (the
   * node inspector docked over them): the network is laid out again in the
   * rest, every node in view. (0, 0) gives the whole canvas back.
   */
  setReserve(left, right) {
    left = Math.max(0, Math.round(left)); right = Math.max(0, Math.round(right));
    if (left === this.reserve.left && right === this.reserve.right) return;
    this.reserve = { left, right };
    this.layout(this.n);
    this.project();
  }

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
    // (plain indexed loops over typed arrays: at a million nodes, pushes and
    // forEach callbacks made the layout take about a quarter of a second)
    const { kinds } = this;
    let nOut = 0;
    for (let i = 0, m = Math.min(n, kinds.length); i < m; i++) if (outside(kinds[i])) nOut++;
    const real = [], inside = new Int32Array(n - nOut);
    if (nOut) { for (let i = 0, j = 0; i < n; i++) if (outside(kinds[i])) real.push(i); else inside[j++] = i; }
    else for (let i = 0; i < n; i++) inside[i] = i;
    const col = real.length ? Math.min(190, this.w * 0.28) : 0;
    this.column = col ? { x: this.w - col, w: col } : null;
    // a band kept free on either side (the node inspector docked there)
    const { left: freeL, right: freeR } = this.reserve;
    const cx = freeL + (this.w - col - freeL - freeR) / 2, cy = this.h / 2;
    const R = Math.max(20, Math.min(this.w - col - freeL - freeR, this.h) / 2 - 26);
    const m = inside.length;
    const { xs, ys } = this;
    if (m <= 64) {
      for (let j = 0; j < m; j++) {
        const a = -Math.PI / 2 + (2 * Math.PI * j) / m;
        xs[inside[j]] = cx + R * Math.cos(a);
        ys[inside[j]] = cy + R * Math.sin(a);
      }
      this.r = Math.max(4, Math.min(11, (Math.PI * R / Math.max(m, 1)) * 0.55));
    } else {
      const golden = Math.PI * (3 - Math.sqrt(5));
      // the angles j * golden by a rotation each node (the cosine and sine
      // of a large angle are slow: for a million nodes 95 ms, against 5),
      // taken afresh every 256 nodes so that rounding cannot build up:
      // positions within a float32 step of the exact ones
      const cg = Math.cos(golden), sg = Math.sin(golden);
      let c = 1, s = 0;
      for (let j = 0; j < m; j++) {
        if ((j & 255) === 0) { c = Math.cos(j * golden); s = Math.sin(j * golden); }
        const rr = R * Math.sqrt((j + 0.5) / m);
        xs[inside[j]] = cx + rr * c;
        ys[inside[j]] = cy + rr * s;
        const c2 = c * cg - s * sg;
        s = s * cg + c * sg;
        c = c2;
      }
      this.r = Math.max(1.3, Math.min(8, (R / Math.sqrt(m)) * 0.78));
    }
    // one row per real node, natives first; when they do not all fit at a
    // legible size, the last row stands for the rest ("+ 87 more")
    const top = 54, bottom = this.h - 50;
    real.sort((a, b) => (this.kinds[a] === Kind.Native ? 0 : 1) - (this.kinds[b] === Kind.Native ? 0 : 1) || a - b);
    const fit = Math.max(1, Math.floor((bottom - top) / MIN_ROW_PX));
    const rows = Math.min(real.length, fit);
    const step = Math.min(56, (bottom - top) / Math.max(1, rows));
    this.sq = Math.max(5, Math.min(11, step * 0.32));
    this.folded = new Uint8Array(n);
    this.more = null;
    real.forEach((i, j) => {
      this.xs[i] = this.w - col + 26;
      this.ys[i] = top + step * (Math.min(j, rows - 1) + 0.5);
      if (real.length > fit && j >= rows - 1) this.folded[i] = 1;
    });
    if (real.length > fit) {
      const rest = real.slice(rows - 1);
      this.more = { y: top + step * (rows - 0.5), count: rest.length, natives: rest.filter((i) => this.kinds[i] === Kind.Native).length };
    }
    this.disk = { cx, cy, R };
    this.grids(inside);
  }

  // The aggregation grids, in world coordinates: cells of about 8 nodes for
  // the density view, and REGIONS x REGIONS regions (with the centroid of
  // their nodes) for the message flows.
  grids(inside) {
    const { cx, cy, R } = this.disk;
    const m = Math.max(1, inside.length);
    const cw = Math.max(6, Math.sqrt((8 * Math.PI * R * R) / m));
    const gw = Math.max(1, Math.ceil((2 * R + 2) / cw));
    const x0 = cx - (gw * cw) / 2, y0 = cy - (gw * cw) / 2;
    const cells = gw * gw;
    const rw = (gw * cw) / REGIONS;
    this.cells = { cw, gw, x0, y0, cnt: new Uint16Array(cells), cur: new Uint16Array(cells), down: new Uint16Array(cells), rgb: new Float32Array(cells * 3), grp: new Int32Array(cells) };
    this.cellOf = new Int32Array(this.n).fill(-1);
    this.regionOf = new Int32Array(this.n).fill(-1);
    const rx = new Float64Array(REGIONS * REGIONS), ry = new Float64Array(REGIONS * REGIONS), rc = new Float64Array(REGIONS * REGIONS);
    const { xs, ys, cellOf, regionOf } = this;
    for (let j = 0; j < inside.length; j++) {
      const i = inside[j], x = xs[i], y = ys[i];
      const gx = Math.min(gw - 1, Math.max(0, Math.floor((x - x0) / cw)));
      const gy = Math.min(gw - 1, Math.max(0, Math.floor((y - y0) / cw)));
      cellOf[i] = gy * gw + gx;
      const qx = Math.min(REGIONS - 1, Math.floor((x - x0) / rw));
      const qy = Math.min(REGIONS - 1, Math.floor((y - y0) / rw));
      const q = qy * REGIONS + qx;
      regionOf[i] = q;
      rx[q] += x; ry[q] += y; rc[q]++;
    }
    this.regions = { x: new Float32Array(REGIONS * REGIONS), y: new Float32Array(REGIONS * REGIONS), n: rc };
    for (let q = 0; q < rc.length; q++) if (rc[q]) { this.regions.x[q] = rx[q] / rc[q]; this.regions.y[q] = ry[q] / rc[q]; }
    const pairs = REGIONS ** 4;
    if (this.flow.length !== pairs) { this.flow = new Float32Array(pairs); this.flowUpd = new Float32Array(pairs); this.flowLost = new Float32Array(pairs); }
    else { this.flow.fill(0); this.flowUpd.fill(0); this.flowLost.fill(0); }
  }

  // ---------- zoom ----------

  /** The drawn radius of a virtual node at the current zoom, CSS px. */
  get rr() { return Math.min(this.r * this.view.k, Math.max(this.r, 16)); }

  /** Whether nodes are aggregated into cells at the current zoom. */
  get lod() { return this.n > 200 && this.r * this.view.k < LOD_R; }

  /** The zoom at which nodes are drawn one by one. */
  detailZoom() { return Math.min(MAX_ZOOM, Math.max(1, (LOD_R * 1.6) / this.r)); }

  /** Zoom to `k`, keeping the screen point (x, y) where it is. */
  zoomAt(x, y, k) {
    const v = this.view;
    k = Math.min(MAX_ZOOM, Math.max(1, k));
    const wx = (x - v.tx) / v.k, wy = (y - v.ty) / v.k;
    v.k = k; v.tx = x - wx * k; v.ty = y - wy * k;
    if (k === 1) { v.tx = 0; v.ty = 0; }
  }

  panBy(dx, dy) { if (this.view.k > 1) { this.view.tx += dx; this.view.ty += dy; } }

  resetZoom() { this.view = { k: 1, tx: 0, ty: 0 }; }

  // Screen positions of every node for this frame (real nodes do not zoom).
  project() {
    if (this.sx.length !== this.n) { this.sx = new Float32Array(this.n); this.sy = new Float32Array(this.n); }
    const { k, tx, ty } = this.view;
    const { xs, ys, sx, sy } = this;
    const some = !!this.column; // real nodes in their column, which does not zoom
    for (let i = 0; i < this.n; i++) {
      if (some && this.isOutside(i)) { sx[i] = xs[i]; sy[i] = ys[i]; } else { sx[i] = xs[i] * k + tx; sy[i] = ys[i] * k + ty; }
    }
  }

  /** The cell under screen point (x, y) in the aggregated view: `{ nodes, current, down }`, or null. */
  cellAt(x, y) {
    if (!this.lod || !this.cells) return null;
    const { k, tx, ty } = this.view;
    const c = this.cells;
    const gx = Math.floor(((x - tx) / k - c.x0) / c.cw), gy = Math.floor(((y - ty) / k - c.y0) / c.cw);
    if (gx < 0 || gy < 0 || gx >= c.gw || gy >= c.gw) return null;
    const j = gy * c.gw + gx;
    return c.cnt[j] ? { nodes: c.cnt[j], current: c.cur[j], down: c.down[j] } : null;
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
      if (!this.isOutside(i) || this.folded?.[i]) continue;
      const px = this.xs[i], py = this.ys[i];
      ctx.fillStyle = colorOf(status[i]);
      if (this.kinds[i] === Kind.Native) {
        ctx.beginPath(); ctx.roundRect(px - s, py - s, 2 * s, 2 * s, 3); ctx.fill();
        ctx.strokeStyle = '#e2e8f0'; ctx.lineWidth = 1.5; ctx.stroke();
      } else {
        ctx.beginPath(); ctx.moveTo(px, py - s); ctx.lineTo(px + s, py); ctx.lineTo(px, py + s); ctx.lineTo(px - s, py); ctx.closePath(); ctx.fill();
      }
      const [name, detail] = this.labels.get(i) || [`#${i}`, ''];
      ctx.fillStyle = status[i] === Status.Down ? '#6b7897' : '#e2e8f0';
      ctx.font = '600 12px ui-sans-serif, system-ui, sans-serif';
      ctx.fillText(name, px + s + 8, py - 6, w - 2 * s - 40);
      ctx.fillStyle = '#8a97b3';
      ctx.font = '11px ui-monospace, Menlo, monospace';
      ctx.fillText(detail, px + s + 8, py + 8, w - 2 * s - 40);
    }
    if (this.more) {
      // the rows that do not fit, as one: a stack of diamonds and a count
      const px = x + 26, py = this.more.y;
      ctx.fillStyle = '#6b7897';
      for (const d of [4, 0]) { ctx.beginPath(); ctx.moveTo(px + d, py - s - d); ctx.lineTo(px + s + d, py - d); ctx.lineTo(px + d, py + s - d); ctx.lineTo(px - s + d, py - d); ctx.closePath(); ctx.fill(); }
      ctx.fillStyle = '#e2e8f0';
      ctx.font = '600 12px ui-sans-serif, system-ui, sans-serif';
      ctx.fillText(`+ ${this.more.count.toLocaleString()} more`, px + s + 8, py - 6, w - 2 * s - 40);
      ctx.fillStyle = '#8a97b3';
      ctx.font = '11px ui-monospace, Menlo, monospace';
      const what = this.more.natives ? `${this.more.natives} real, ${this.more.count - this.more.natives} other pages'` : "other pages' nodes";
      ctx.fillText(what, px + s + 8, py + 8, w - 2 * s - 40);
    }
    ctx.restore();
  }

  /** How many real nodes (and other pages' nodes) the column folds into its last row ("+ N more"); 0 when all fit. */
  foldedCount() { return this.more ? this.more.count : 0; }

  // Add the flights the handle reported: flat, Flight.Len numbers a message.
  // In the aggregated view every one counts in the region flows; otherwise
  // individual comets, capped at maxFlights, sampled evenly when a frame
  // brings more.
  addFlights(flat, now, wallPerMs, model, intervalMs) {
    const minVisual = 320 / Math.max(wallPerMs, 1e-9); // at least ~0.3 s on screen, in virtual ms
    const L = Flight.Len;
    const total = Math.floor(flat.length / L);
    const R2 = REGIONS * REGIONS;
    for (let j = 0; j < total && this.lod; j++) {
      const k = j * L;
      const a = this.regionOf[flat[k + Flight.From]], b = this.regionOf[flat[k + Flight.To]];
      if (a >= 0 && b >= 0 && a !== b) {
        const q = a * R2 + b;
        this.flow[q]++;
        if (flat[k + Flight.Updates] > 0) this.flowUpd[q]++;
        if (flat[k + Flight.Arrives] < 0) this.flowLost[q]++;
      }
    }
    if (this.lod) { // drawn as flows, but for messages to or from real nodes
      for (let k = 0; k < total * L; k += L) if (this.isOutside(flat[k + Flight.From]) || this.isOutside(flat[k + Flight.To])) this.pushFlight(flat, k, now, minVisual, model, intervalMs);
      return;
    }
    // (only those still on screen: after a seek or a stretch at max speed
    // the batch spans seconds, and all but its last messages are over)
    const shown = this.shown || (this.shown = []); // (reused: one a frame)
    shown.length = 0;
    for (let k = 0; k < total * L; k += L) if (Math.max(drawnArrival(flat, k, model, intervalMs), flat[k + Flight.Sent] + minVisual) > now) shown.push(k);
    const room = this.maxFlights - this.flights.length;
    if (room <= 0) { this.dropped = (this.dropped || 0) + shown.length; return; }
    const step = shown.length > room ? shown.length / room : 1;
    for (let x = 0; x < shown.length; x += step) this.pushFlight(flat, shown[Math.floor(x)], now, minVisual, model, intervalMs);
    if (step > 1) this.dropped = (this.dropped || 0) + shown.length - room;
  }

  pushFlight(flat, k, now, minVisual, model, intervalMs) {
    const t0 = flat[k + Flight.Sent], t1 = drawnArrival(flat, k, model, intervalMs);
    this.flights.push({ from: flat[k + Flight.From], to: flat[k + Flight.To], t0, t1, vis1: Math.max(t1, t0 + minVisual), upd: flat[k + Flight.Updates] > 0, lost: flat[k + Flight.Arrives] < 0 });
  }

  clearFlights() { this.flights.length = 0; this.flow.fill(0); this.flowUpd.fill(0); this.flowLost.fill(0); }

  drawBitmap(status, groups, partitioned, colorOf) {
    const { ctx, canvas } = this;
    const W = canvas.width, H = canvas.height;
    const dpr = W / this.w;
    if (!this.img || this.img.width !== W || this.img.height !== H) {
      this.img = ctx.createImageData(W, H);
      this.buf = new Uint32Array(this.img.data.buffer);
    }
    const rr = this.rr * dpr;
    const key = `${rr}`;
    if (this.stampKey !== key) {
      this.stampKey = key;
      this.disc = spans(stamp(rr));
      this.ring = spans(stamp(rr + 1.6 * dpr, rr + 0.6 * dpr));
    }
    const buf = this.buf;
    buf.fill(0);
    const reach = (this.rr + 3) * dpr;
    const put = (sp, color, i) => {
      const cx = Math.round(this.sx[i] * dpr), cy = Math.round(this.sy[i] * dpr);
      if (cx < -reach || cy < -reach || cx > W + reach || cy > H + reach) return; // off screen (zoomed in)
      // opaque runs in one fill each, then the anti-aliased edge pixel by pixel
      const { runs, edge: st } = sp;
      const full = 0xff000000 | color;
      for (let k = 0; k < runs.length; k += 3) {
        const y = cy + runs[k];
        if (y < 0 || y >= H) continue;
        const x0 = Math.max(0, cx + runs[k + 1]), x1 = Math.min(W, cx + runs[k + 2]);
        for (let x = y * W + x0, e = y * W + x1; x < e; x++) buf[x] = full;
      }
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

  // The aggregated view: each cell of ~8 nodes filled with the average
  // colour of its nodes' states (so a cell half up to date is half way
  // between the two colours); partition groups outlined.
  drawCells(status, groups, partitioned, colorOf, threeStates) {
    const { ctx } = this;
    const c = this.cells;
    const { cnt, cur, down, rgb: sum, grp } = c;
    cnt.fill(0); cur.fill(0); down.fill(0); sum.fill(0); grp.fill(-1);
    const { cellOf } = this;
    if (threeStates && !partitioned) {
      // a single rumor: every code is up to date, down or uninformed, so
      // counting the three per cell gives the colours (the pass over a
      // million nodes is then half as long: no colour sums per node)
      for (let i = 0; i < this.n; i++) {
        const j = cellOf[i];
        if (j < 0) continue;
        const st = status[i];
        cnt[j]++;
        if (st === Status.Current) cur[j]++;
        else if (st === Status.Down) down[j]++;
      }
      const [vc, vd, vu] = [rgb(colorOf(Status.Current)), rgb(colorOf(Status.Down)), rgb(colorOf(Status.Current + 1))];
      for (let j = 0; j < cnt.length; j++) {
        const a = cur[j], d = down[j], u = cnt[j] - a - d;
        for (let k = 0; k < 3; k++) sum[3 * j + k] = a * ((vc >> (8 * k)) & 0xff) + d * ((vd >> (8 * k)) & 0xff) + u * ((vu >> (8 * k)) & 0xff);
      }
    } else {
      // each state's colour, packed, looked up by its code (codes are small)
      const packedOf = [];
      for (let i = 0; i < this.n; i++) {
        const j = cellOf[i];
        if (j < 0) continue;
        const st = status[i];
        let v = packedOf[st];
        if (v === undefined) { v = rgb(colorOf(st)); packedOf[st] = v; }
        cnt[j]++;
        if (st === Status.Current) cur[j]++;
        else if (st === Status.Down) down[j]++;
        sum[3 * j] += v & 0xff; sum[3 * j + 1] += (v >> 8) & 0xff; sum[3 * j + 2] += (v >> 16) & 0xff;
        if (partitioned) grp[j] = grp[j] === -1 || grp[j] === groups[i] ? groups[i] : -2;
      }
    }
    // one CELL_PX square block per cell (its last row and column left
    // empty, a gap) in a small bitmap, scaled onto the canvas: a tenth of
    // the pixels of drawing cells at screen size
    const B = CELL_PX, side = c.gw * B;
    if (!this.cellCanvas || this.cellCanvas.width !== side) {
      this.cellCanvas = document.createElement('canvas');
      this.cellCanvas.width = this.cellCanvas.height = side;
      this.cellCtx = this.cellCanvas.getContext('2d');
      this.cellImg = this.cellCtx.createImageData(side, side);
      this.cellBuf = new Uint32Array(this.cellImg.data.buffer);
    }
    const buf = this.cellBuf;
    buf.fill(0);
    for (let j = 0; j < cnt.length; j++) {
      const m = cnt[j];
      if (!m) continue;
      const x0 = (j % c.gw) * B, y0 = Math.floor(j / c.gw) * B;
      const fill = 0xff000000 | (Math.round(sum[3 * j + 2] / m) << 16) | (Math.round(sum[3 * j + 1] / m) << 8) | Math.round(sum[3 * j] / m);
      for (let y = 0; y < B - 1; y++) buf.fill(fill, (y0 + y) * side + x0, (y0 + y) * side + x0 + B - 1);
    }
    // partitioned: the gaps between cells of different groups drawn light,
    // so the groups stand out as outlined areas
    if (partitioned) {
      const line = 0xfff0e8e2;
      for (let j = 0; j < cnt.length; j++) {
        if (!cnt[j]) continue;
        const gx = j % c.gw, gy = Math.floor(j / c.gw);
        const x0 = gx * B, y0 = gy * B;
        const right = gx + 1 < c.gw ? j + 1 : -1, below = gy + 1 < c.gw ? j + c.gw : -1;
        if (right >= 0 && cnt[right] && (grp[right] !== grp[j] || grp[j] === -2)) for (let y = -1; y < B; y++) if (y0 + y >= 0) buf[(y0 + y) * side + x0 + B - 1] = line;
        if (below >= 0 && cnt[below] && (grp[below] !== grp[j] || grp[j] === -2)) buf.fill(line, (y0 + B - 1) * side + Math.max(0, x0 - 1), (y0 + B - 1) * side + x0 + B);
      }
    }
    this.cellCtx.putImageData(this.cellImg, 0, 0);
    const { k, tx, ty } = this.view;
    ctx.save();
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.cellCanvas, c.x0 * k + tx, c.y0 * k + ty, c.gw * c.cw * k, c.gw * c.cw * k);
    ctx.restore();
  }

  // Messages in the aggregated view: one curve per pair of regions that
  // exchanged messages lately (the busiest MAX_FLOWS), its width growing
  // with the rate (log scale), blue when most carried updates, red when many
  // were lost, with a dot moving from sender to receiver. Curves bow to the
  // right of their direction, so A to B and B to A are apart.
  drawFlows(wall) {
    const { ctx } = this;
    const dt = Math.max(0, Math.min(1000, wall - (this.lastFlowWall || wall)));
    this.lastFlowWall = wall;
    const decay = Math.exp(-dt / FLOW_TAU_MS);
    const f = this.flow, fu = this.flowUpd, fl = this.flowLost;
    const list = [];
    let total = 0;
    for (let q = 0; q < f.length; q++) {
      if (f[q] === 0) continue;
      f[q] *= decay; fu[q] *= decay; fl[q] *= decay;
      if (f[q] < 0.05) { f[q] = 0; fu[q] = 0; fl[q] = 0; continue; }
      total += f[q];
      list.push(q);
    }
    this.flowTotal = total / (FLOW_TAU_MS / 1000); // messages per wall second between regions, about
    if (!list.length) return;
    list.sort((a, b) => f[b] - f[a]);
    const R2 = REGIONS * REGIONS;
    const { k, tx, ty } = this.view;
    const rx = this.regions.x, ry = this.regions.y;
    // batched by colour and width class: a dozen strokes a frame, whatever the traffic
    const colors = ['#cbd5e1', '#7dd3fc', '#f87171'];
    const batches = new Map();
    const dots = colors.map(() => new Path2D());
    for (const q of list.slice(0, MAX_FLOWS)) {
      const a = Math.floor(q / R2), b = q % R2;
      const x0 = rx[a] * k + tx, y0 = ry[a] * k + ty, x1 = rx[b] * k + tx, y1 = ry[b] * k + ty;
      const lg = Math.log2(1 + f[q] / (FLOW_TAU_MS / 1000)); // messages per second, log
      const cls = Math.min(3, Math.floor(lg / 3)); // width class
      const col = fl[q] > 0.3 * f[q] ? 2 : fu[q] > 0.5 * f[q] ? 1 : 0;
      const key = col * 4 + cls;
      let p = batches.get(key);
      if (!p) { p = new Path2D(); batches.set(key, p); }
      const mx = (x0 + x1) / 2 + (y1 - y0) * 0.18, my = (y0 + y1) / 2 - (x1 - x0) * 0.18;
      p.moveTo(x0, y0);
      p.quadraticCurveTo(mx, my, x1, y1);
      // a dot travelling from sender to receiver shows the direction
      const t = (wall / 1400 + (q * 0.618)) % 1, u = 1 - t;
      const dx = u * u * x0 + 2 * u * t * mx + t * t * x1, dy = u * u * y0 + 2 * u * t * my + t * t * y1;
      const dr = 1.5 + cls * 0.8;
      dots[col].moveTo(dx + dr, dy);
      dots[col].arc(dx, dy, dr, 0, Math.PI * 2);
    }
    ctx.save();
    ctx.lineCap = 'round';
    for (const [key, p] of batches) {
      const cls = key % 4;
      ctx.lineWidth = 1 + cls * 1.6;
      ctx.globalAlpha = 0.35 + cls * 0.15;
      ctx.strokeStyle = colors[Math.floor(key / 4)];
      ctx.stroke(p);
    }
    ctx.globalAlpha = 0.9;
    dots.forEach((p, c) => { ctx.fillStyle = colors[c]; ctx.fill(p); });
    ctx.restore();
  }

  /** The node under screen point (x, y), or -1 (always -1 on the aggregated cells: see cellAt). */
  nodeAt(x, y) {
    if (this.sx.length !== this.n) this.project();
    let best = -1, bd = Infinity;
    const lod = this.lod;
    const lim = Math.max(this.rr * 2.2, 7) ** 2;
    for (let i = 0; i < this.n; i++) {
      if ((lod && !this.isOutside(i)) || this.folded?.[i]) continue;
      const dx = this.sx[i] - x, dy = this.sy[i] - y;
      // real nodes are bigger
      const d = (dx * dx + dy * dy) * (this.isOutside(i) ? lim / Math.max(lim, (this.sq * 2.2) ** 2) : 1);
      if (d < bd) { bd = d; best = i; }
    }
    return bd <= lim ? best : -1;
  }

  // status: Uint32Array of Status codes (Current + k: behind by k origins);
  // groups: Uint16Array; origins: how many origins exist (to shade staleness).
  // Overlay links between up nodes: lazy ones faint, eager ones (the tree) bold.
  drawLinks(L, n, rr) {
    const { ctx, sx, sy } = this;
    const lazy = new Path2D(), eager = new Path2D();
    for (let k = 0; k + Link.Len <= L.length; k += Link.Len) {
      const a = L[k + Link.From], b = L[k + Link.To], e = L[k + Link.Eager];
      if (a >= n || b >= n || (!e && a > b)) continue; // a lazy pair once
      const p = e ? eager : lazy;
      p.moveTo(sx[a], sy[a]);
      p.lineTo(sx[b], sy[b]);
    }
    ctx.lineWidth = 1;
    ctx.globalAlpha = 0.22;
    ctx.strokeStyle = '#64748b'; ctx.stroke(lazy);
    ctx.globalAlpha = 0.9;
    ctx.lineWidth = Math.max(1.2, Math.min(2.6, rr * 0.35));
    ctx.strokeStyle = '#c084fc'; ctx.stroke(eager);
    ctx.globalAlpha = 1;
  }

  // SWIM: an amber ring around each node other members suspect, wider the
  // more do, and the count when nodes are big enough to write it.
  drawSuspects(counts, n, rr) {
    const { ctx, sx, sy } = this;
    ctx.strokeStyle = '#f59e0b';
    for (let i = 0; i < n && i < counts.length; i++) {
      const c = counts[i];
      if (!c) continue;
      ctx.beginPath();
      ctx.lineWidth = Math.min(5, 1.2 + Math.log2(c));
      ctx.arc(sx[i], sy[i], rr + 2.5 + ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.stroke();
    }
    if (rr < 5) return;
    ctx.font = `700 ${Math.max(10, Math.round(rr * 0.8))}px ui-sans-serif, system-ui, sans-serif`;
    ctx.textAlign = 'left'; ctx.textBaseline = 'bottom';
    ctx.fillStyle = '#fbbf24';
    for (let i = 0; i < n && i < counts.length; i++) if (counts[i]) ctx.fillText(String(counts[i]), sx[i] + rr + 3, sy[i] - rr - 1);
  }

  draw(status, groups, now, wall, opts) {
    const { ctx } = this;
    const n = status.length;
    if (n !== this.n) this.layout(n);
    this.project();
    const rr = this.rr, lod = this.lod;
    ctx.clearRect(0, 0, this.w, this.h);
    const single = opts.single;
    const partitioned = !!groups && anyNonZero(groups);

    // nodes: vector paths for small networks (crisp, labelled), a bitmap for
    // large ones (thousands of paths are slow to rasterise without a GPU)
    const origins = Math.max(1, opts.origins || 1);
    const colorOf = (s) => {
      if (s >= SEEN_BASE) return SEEN_COLORS[s - SEEN_BASE] ?? DOWN;
      if (s === Status.Down) return DOWN;
      if (s === Status.Current) return CURRENT;
      if (single) return UNINFORMED;
      const frac = (s - Status.Current) / origins;
      return STALE_COLORS[Math.min(STALE_COLORS.length - 1, Math.floor(Math.sqrt(frac) * STALE_COLORS.length))];
    };
    // the rings of nodes that caught up (not drawn on the aggregated
    // cells: there a pass over every node would be for nothing, and the
    // first frame zoomed in takes the states as they are, without rings)
    if (lod) this.prevStale = true;
    else if (this.prevStale) { this.prev.set(status); this.prevStale = false; }
    else for (let i = 0; i < n; i++) {
      const s = status[i];
      if (this.prev[i] > Status.Current && s === Status.Current) this.flash[i] = wall;
      this.prev[i] = s;
    }
    // a SWIM member selected: colour by what it holds
    let paint = status;
    if (opts.view && opts.view.length === n) {
      if (!this.paint || this.paint.length !== n) this.paint = new Uint32Array(n);
      paint = this.paint;
      for (let i = 0; i < n; i++) paint[i] = SEEN_BASE + opts.view[i];
    }
    if (opts.links && !lod) this.drawLinks(opts.links, n, rr);
    if (lod) this.drawCells(paint, groups, partitioned, colorOf, single && paint === status);
    else if (n > 200) this.drawBitmap(paint, groups, partitioned, colorOf);
    else {
      const buckets = new Map();
      for (let i = 0; i < n; i++) {
        if (this.isOutside(i)) continue;
        const c = colorOf(paint[i]);
        let p = buckets.get(c);
        if (!p) { p = new Path2D(); buckets.set(c, p); }
        p.moveTo(this.sx[i] + rr, this.sy[i]);
        p.arc(this.sx[i], this.sy[i], rr, 0, Math.PI * 2);
      }
      for (const [color, p] of buckets) { ctx.fillStyle = color; ctx.fill(p); }
      if (partitioned) {
        const rings = new Map();
        for (let i = 0; i < n; i++) {
          if (this.isOutside(i)) continue;
          const g = groups[i];
          let p = rings.get(g);
          if (!p) { p = new Path2D(); rings.set(g, p); }
          const r = rr + 2;
          p.moveTo(this.sx[i] + r, this.sy[i]);
          p.arc(this.sx[i], this.sy[i], r, 0, Math.PI * 2);
        }
        ctx.lineWidth = Math.max(1, Math.min(2, rr * 0.3));
        for (const [g, p] of rings) { ctx.strokeStyle = hsl(GROUP_HUES[g % GROUP_HUES.length], 0.8, 0.65); ctx.stroke(p); }
      }
    }

    // flights: a faint link plus a moving dot
    if (!opts.hideFlights && lod) this.drawFlows(wall);
    else { this.lastFlowWall = wall; if (opts.hideFlights) this.flow.fill(0); }
    if (!opts.hideFlights) {
      const keep = [];
      const W = this.w, H = this.h;
      ctx.lineWidth = 1;
      const links = { upd: new Path2D(), ctl: new Path2D(), lost: new Path2D() };
      const dots = { upd: new Path2D(), ctl: new Path2D(), lost: new Path2D() };
      const dr = Math.max(1.6, Math.min(3.2, rr * 0.45));
      // comet tails only while few messages fly (hundreds of anti-aliased strokes
      // cost Chromium's software raster more than the rest of the frame)
      const drawLinks = this.flights.length < 400;
      for (const f of this.flights) {
        if (now > f.vis1 || f.from >= n || f.to >= n) continue;
        keep.push(f);
        if (lod && !this.isOutside(f.from) && !this.isOutside(f.to)) continue; // drawn as flows
        const p = Math.max(0, Math.min(1, (now - f.t0) / (f.vis1 - f.t0)));
        const kind = f.lost ? 'lost' : f.upd ? 'upd' : 'ctl';
        const x0 = this.sx[f.from], y0 = this.sy[f.from], x1 = this.sx[f.to], y1 = this.sy[f.to];
        if ((x0 < 0 && x1 < 0) || (y0 < 0 && y1 < 0) || (x0 > W && x1 > W) || (y0 > H && y1 > H)) continue; // off screen
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
    for (let i = 0; i < n; i++) if (this.kinds[i] === Kind.Gateway) {
      const r = rr + 3.5;
      gw.moveTo(this.sx[i] + r, this.sy[i]);
      gw.arc(this.sx[i], this.sy[i], r, 0, Math.PI * 2);
      gws = true;
    }
    if (gws) { ctx.setLineDash([3, 2]); ctx.strokeStyle = '#7dd3fc'; ctx.lineWidth = 1.5; ctx.stroke(gw); ctx.setLineDash([]); }

    // crossed-out down nodes, when big enough to see
    if (rr >= 3) {
      const x = new Path2D();
      const k = rr * 0.55;
      for (let i = 0; i < n; i++) if (status[i] === Status.Down && !this.isOutside(i)) {
        x.moveTo(this.sx[i] - k, this.sy[i] - k); x.lineTo(this.sx[i] + k, this.sy[i] + k);
        x.moveTo(this.sx[i] + k, this.sy[i] - k); x.lineTo(this.sx[i] - k, this.sy[i] + k);
      }
      ctx.strokeStyle = '#9ca3af'; ctx.lineWidth = 1.2; ctx.stroke(x);
    }

    if (opts.suspects && !lod) this.drawSuspects(opts.suspects, n, rr);

    // a ring that fades when a node catches up
    // (not on the aggregated cells, whose colour shows it; at most 600 a frame)
    const glow = new Path2D();
    let any = false, glows = 0;
    for (let i = 0; i < n && !lod && glows < 600; i++) {
      const age = wall - this.flash[i];
      if (this.flash[i] > 0 && age < 450 && this.sx[i] > -20 && this.sy[i] > -20 && this.sx[i] < this.w + 20 && this.sy[i] < this.h + 20) {
        glows++;
        const r = rr + 2 + (age / 450) * rr * 1.8;
        glow.moveTo(this.sx[i] + r, this.sy[i]);
        glow.arc(this.sx[i], this.sy[i], r, 0, Math.PI * 2);
        any = true;
      }
    }
    if (any) { ctx.strokeStyle = 'rgba(52, 211, 153, .55)'; ctx.lineWidth = 1.5; ctx.stroke(glow); }

    // labels for small networks
    if (n <= 64 && rr >= 6) {
      ctx.fillStyle = '#0b1020';
      ctx.font = `600 ${Math.round(rr * 0.95)}px ui-sans-serif, system-ui, sans-serif`;
      ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
      for (let i = 0; i < n; i++) if (status[i] !== Status.Down && !this.isOutside(i)) ctx.fillText(String(i), this.sx[i], this.sy[i] + 0.5);
    }

    for (const [i, color, w] of [[this.hoverNode, 'rgba(255,255,255,.5)', 1.5], [this.selected, '#ffffff', 2.5]]) {
      if (i >= 0 && i < n) {
        ctx.beginPath();
        ctx.arc(this.sx[i], this.sy[i], (this.isOutside(i) ? this.sq * 1.42 : rr) + 4, 0, Math.PI * 2);
        ctx.strokeStyle = color; ctx.lineWidth = w; ctx.stroke();
      }
    }

    // what the aggregated view shows, and the zoom
    const caption = lod
      ? `${n.toLocaleString('en-US')} nodes: each cell is about ${Math.round(n / Math.max(1, this.cells.cnt.reduce((a, c) => a + (c > 0), 0)))} nodes, coloured by their mix of states; curves: messages between regions. Scroll or click to zoom in.`
      : this.view.k > 1 ? `zoom ${this.view.k.toFixed(1)}× · drag to pan · double-click to reset` : '';
    if (caption) {
      ctx.save();
      ctx.font = '12px ui-sans-serif, system-ui, sans-serif';
      ctx.textAlign = 'left'; ctx.textBaseline = 'top';
      const w = Math.min(ctx.measureText(caption).width, this.w - 40);
      ctx.fillStyle = 'rgba(18, 26, 46, .8)';
      ctx.fillRect(12, 10, w + 16, 22);
      ctx.fillStyle = '#8a97b3';
      ctx.fillText(caption, 20, 15, this.w - 40);
      ctx.restore();
    }
  }
}
