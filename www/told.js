// Who told whom. For one selected update: its dissemination tree (each
// node's first delivery, solid green) and its duplicates (dashed red) drawn
// over the network view; beside it, a space-time (Lamport) diagram of its
// deliveries for small networks (up to LAMPORT_MAX_NODES nodes: one lane a
// node, an arrow a delivery) or a histogram of hop counts for big ones.
// And a message in flight, clicked: what it carries (kind, sender,
// receiver, updates with origin, version and TTL, bytes), with a button
// that drops it as a recorded fault (`drop:FROM>TO`, in the link).
//
// Why a module of its own: the page's other parts (chart, layout, time
// control) change in parallel; this one only reads the wasm handle's
// `dissemination()` and `in_flight()` (flat numbers) and draws.

const KINDS = ['message', 'push', 'feedback', 'digest', 'delta'];
/** Networks up to this many nodes get the space-time diagram; bigger ones the hop histogram. */
export const LAMPORT_MAX_NODES = 30;

/** A version as the page writes it: `"1.3"` (epoch.counter), `3` or `"3"` (epoch 0), or `{ epoch, counter }`. */
export function parseVersion(v) {
  if (v && typeof v === 'object') return { epoch: Number(v.epoch) || 0, counter: Number(v.counter) };
  const s = String(v).trim();
  const m = /^(\d+)\.(\d+)$/.exec(s);
  if (m) return { epoch: Number(m[1]), counter: Number(m[2]) };
  if (/^\d+$/.test(s)) return { epoch: 0, counter: Number(s) };
  throw new Error(`version ${JSON.stringify(v)}: write epoch.counter (1.3) or a counter (3, for epoch 0)`);
}

const verText = (epoch, counter) => (epoch ? `${epoch}.${counter}` : `${counter}`);

/** `[{ from, to, t_ms, hop, duplicate }]`: every delivery of the update so far, in time order (hop null: unknown). */
export function dissemination(lab, origin, version) {
  const { epoch, counter } = parseVersion(version);
  const f = lab.dissemination(Number(origin), epoch, counter);
  const out = [];
  for (let k = 0; k + 5 <= f.length; k += 5) {
    out.push({ from: f[k], to: f[k + 1], t_ms: f[k + 2], hop: f[k + 3] < 0 ? null : f[k + 3], duplicate: f[k + 4] === 1 });
  }
  return out;
}

/** `[{ from, to, arrives, kind, bytes, updates: [{ origin, epoch, counter, ttl }] }]`: the messages from → to in flight now. */
export function inFlight(lab, from, to) {
  const f = lab.in_flight(Number(from), Number(to));
  const out = [];
  let k = 0;
  while (k + 4 <= f.length) {
    const m = { from: Number(from), to: Number(to), arrives: f[k], kind: KINDS[f[k + 1]] || 'message', bytes: f[k + 2], updates: [] };
    const n = f[k + 3];
    k += 4;
    for (let j = 0; j < n && k + 4 <= f.length; j++, k += 4) m.updates.push({ origin: f[k], epoch: f[k + 1], counter: f[k + 2], ttl: f[k + 3] });
    out.push(m);
  }
  return out;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

export class ToldView {
  /** `panel`: the element the update's summary and diagram go in. */
  constructor(panel) {
    this.panel = panel;
    this.sel = null; // { origin, epoch, counter, edges, error }
    this.lastRead = 0;
  }

  /** Select an update (null: none) and read its deliveries. */
  select(lab, origin, version) {
    if (origin === null || origin === undefined || origin < 0) { this.sel = null; this.render(lab); return null; }
    const { epoch, counter } = parseVersion(version);
    this.sel = { origin: Number(origin), epoch, counter, edges: [], error: null };
    this.read(lab);
    this.render(lab);
    return this.sel.edges;
  }

  read(lab) {
    const s = this.sel;
    if (!s || !lab) return;
    try { s.edges = dissemination(lab, s.origin, { epoch: s.epoch, counter: s.counter }); s.error = null; } catch (e) { s.edges = []; s.error = String(e.message || e); }
  }

  /** Once a frame: re-read the selected update a few times a second, then draw its tree over the network. */
  frame(lab, net, wall) {
    if (!this.sel) return;
    if (wall - this.lastRead > 250) { this.lastRead = wall; this.read(lab); this.render(lab); }
    this.drawOn(net);
  }

  drawOn(net) {
    const s = this.sel;
    if (!s || net.lod) return;
    const { ctx } = net;
    const n = net.n;
    const tree = new Path2D(), dups = new Path2D();
    for (const e of s.edges) {
      if (e.from >= n || e.to >= n) continue;
      const p = e.duplicate ? dups : tree;
      p.moveTo(net.sx[e.from], net.sy[e.from]);
      p.lineTo(net.sx[e.to], net.sy[e.to]);
    }
    ctx.save();
    ctx.lineWidth = 1;
    ctx.setLineDash([3, 3]);
    ctx.strokeStyle = 'rgba(248, 113, 113, 0.45)';
    ctx.stroke(dups);
    ctx.setLineDash([]);
    ctx.lineWidth = 2;
    ctx.strokeStyle = 'rgba(74, 222, 128, 0.9)';
    ctx.stroke(tree);
    if (s.origin < n) {
      ctx.beginPath();
      ctx.arc(net.sx[s.origin], net.sy[s.origin], Math.max(6, net.r + 4), 0, Math.PI * 2);
      ctx.strokeStyle = '#f0abfc';
      ctx.stroke();
    }
    ctx.restore();
  }

  render(lab) {
    const s = this.sel;
    const p = this.panel;
    if (!p) return;
    if (!s) { p.hidden = true; p.innerHTML = ''; return; }
    p.hidden = false;
    const first = s.edges.filter((e) => !e.duplicate);
    const dup = s.edges.length - first.length;
    const maxHop = first.reduce((m, e) => Math.max(m, e.hop ?? 0), 0);
    const n = lab ? lab.len() : 0;
    const small = n <= LAMPORT_MAX_NODES;
    if (!p.querySelector('canvas')) {
      p.innerHTML = `<div class="told-head"><b id="told-title"></b> <button id="told-close" title="stop showing this update">×</button></div>
        <div id="told-sum" class="told-sum"></div><canvas id="told-canvas" width="320" height="180"></canvas>
        <div class="told-key"><span class="tree">— first delivery (tree)</span> <span class="dup">- - duplicate</span></div>`;
      p.querySelector('#told-close').onclick = () => this.select(lab, null);
    }
    p.querySelector('#told-title').textContent = `Update ${s.origin}@${verText(s.epoch, s.counter)}: who told whom`;
    p.querySelector('#told-sum').textContent = s.error ? s.error
      : `${first.length} nodes told (origin not counted) · ${dup} duplicates · deepest hop ${maxHop} · ${small ? 'space-time diagram' : 'hops histogram'}`;
    const c = p.querySelector('#told-canvas');
    if (small) this.drawLamport(c, s, n); else this.drawHistogram(c, first, s.edges);
  }

  // One lane a node, time left to right; an arrow a delivery, from when its
  // sender held the update (never earlier than the run's first delivery) to
  // its arrival. Delivery records hold arrival times only: an arrow starts at
  // the sender's own first delivery (the origin: the update's first event).
  drawLamport(c, s, n) {
    const ctx = c.getContext('2d');
    const W = c.width, H = c.height, L = 28, R = 8, T = 6, B = 16;
    ctx.clearRect(0, 0, W, H);
    const t0 = s.edges.length ? Math.min(...s.edges.map((e) => e.t_ms)) : 0;
    const t1 = s.edges.length ? Math.max(...s.edges.map((e) => e.t_ms)) : 1;
    const held = new Map([[s.origin, Math.max(0, t0 - 1)]]);
    for (const e of s.edges) if (!e.duplicate && !held.has(e.to)) held.set(e.to, e.t_ms);
    const start = held.get(s.origin);
    const X = (t) => L + ((t - start) / Math.max(1, t1 - start)) * (W - L - R);
    const Y = (i) => T + (i + 0.5) * ((H - T - B) / Math.max(1, n));
    ctx.font = '9px ui-sans-serif, system-ui, sans-serif';
    ctx.fillStyle = '#6b7897';
    ctx.strokeStyle = '#1f2a44';
    for (let i = 0; i < n; i++) {
      ctx.beginPath(); ctx.moveTo(L, Y(i)); ctx.lineTo(W - R, Y(i)); ctx.stroke();
      if (n <= 16 || i % 2 === 0) ctx.fillText(`#${i}`, 2, Y(i) + 3);
    }
    ctx.fillText(`${Math.round(start)} ms`, L, H - 4);
    ctx.fillText(`${Math.round(t1)} ms`, W - R - 40, H - 4);
    for (const e of s.edges) {
      if (e.from >= n || e.to >= n) continue;
      const a = held.get(e.from) ?? start;
      ctx.beginPath();
      ctx.setLineDash(e.duplicate ? [2, 2] : []);
      ctx.strokeStyle = e.duplicate ? 'rgba(248, 113, 113, 0.5)' : 'rgba(74, 222, 128, 0.95)';
      ctx.moveTo(X(Math.min(a, e.t_ms)), Y(e.from));
      ctx.lineTo(X(e.t_ms), Y(e.to));
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }

  drawHistogram(c, first, all) {
    const ctx = c.getContext('2d');
    const W = c.width, H = c.height, L = 8, B = 16, T = 14;
    ctx.clearRect(0, 0, W, H);
    const counts = [], dups = [];
    for (const e of all) {
      const h = e.hop ?? 0;
      const arr = e.duplicate ? dups : counts;
      arr[h] = (arr[h] || 0) + 1;
    }
    const hops = Math.max(counts.length, 1);
    const max = Math.max(1, ...counts.map((x) => x || 0));
    const bw = (W - 2 * L) / hops;
    ctx.font = '9px ui-sans-serif, system-ui, sans-serif';
    for (let h = 0; h < hops; h++) {
      const v = counts[h] || 0;
      const bh = (v / max) * (H - B - T);
      ctx.fillStyle = 'rgba(74, 222, 128, 0.85)';
      ctx.fillRect(L + h * bw + 1, H - B - bh, Math.max(1, bw - 2), bh);
      ctx.fillStyle = '#6b7897';
      if (hops <= 20 || h % 2 === 0) ctx.fillText(`${h}`, L + h * bw + bw / 2 - 3, H - 4);
      if (v && bw > 14) ctx.fillText(`${v}`, L + h * bw + 2, H - B - bh - 3);
    }
    ctx.fillStyle = '#6b7897';
    ctx.fillText(`nodes told at each hop (${first.length}); duplicates: ${dups.reduce((a, b) => a + (b || 0), 0)}`, L, 10);
  }
}

/** The flight drawn nearest to (x, y) CSS px (within 9 px) at virtual time `now`, or null. */
export function flightAt(net, x, y, now) {
  let best = null, bd = 81;
  for (const f of net.flights) {
    if (now > f.vis1 || f.from >= net.n || f.to >= net.n) continue;
    const p = Math.max(0, Math.min(1, (now - f.t0) / (f.vis1 - f.t0)));
    const reach = f.lost ? Math.min(p, 0.5) : p;
    const fx = net.sx[f.from] + (net.sx[f.to] - net.sx[f.from]) * reach;
    const fy = net.sy[f.from] + (net.sy[f.to] - net.sy[f.from]) * reach;
    const d = (fx - x) ** 2 + (fy - y) ** 2;
    if (d < bd) { bd = d; best = f; }
  }
  return best;
}

/** Show the messages from → to in flight in the inspector (`title`, `body`), with a button that drops them (`drop(spec)`). */
export function renderFlight(lab, from, to, title, body, drop) {
  const msgs = inFlight(lab, from, to);
  title.textContent = `message #${from} → #${to}`;
  body.className = '';
  if (!msgs.length) {
    body.innerHTML = '<div class="insp-note">Nothing from this sender to this receiver is in flight any more: it arrived, or the run is in the rounds model, where an exchange completes within its round.</div>';
    return msgs;
  }
  const rows = (m) => m.updates.map((u) => `<tr><td>${u.origin}</td><td>${verText(u.epoch, u.counter)}</td><td>${u.ttl}</td></tr>`).join('');
  body.innerHTML = msgs.map((m) => `<div class="insp-grid">
      <div><div class="k">kind</div><div class="v">${esc(m.kind)}</div></div>
      <div><div class="k">sender → receiver</div><div class="v">#${m.from} → #${m.to}</div></div>
      <div><div class="k">arrives at</div><div class="v">${Math.round(m.arrives)} ms</div></div>
      <div><div class="k">size</div><div class="v">${m.bytes} bytes</div></div>
    </div>${m.updates.length ? `<div class="table-wrap"><table class="flight-updates"><thead><tr><th>origin</th><th>version</th><th>TTL</th></tr></thead><tbody>${rows(m)}</tbody></table></div>` : '<div class="insp-note">It carries no update (a digest or feedback).</div>'}`).join('')
    + `<div class="insp-actions"><button id="drop-flight" title="recorded in the fault timeline as drop:${from}>${to}, so the link replays it">Drop ${msgs.length > 1 ? `these ${msgs.length} messages` : 'this message'}</button></div>`;
  body.querySelector('#drop-flight').onclick = () => drop(`drop:${from}>${to}`);
  return msgs;
}
