// Compare mode: a second run (B) beside the page's run (A), on the same seed
// and fault timeline, differing by a few parameters (`compare=fanout:3` in
// the link). B is a second wasm `Lab`, advanced in lockstep of virtual time
// after A each frame (when one run stops, the other goes on alone); a fault
// applied to A is applied to B at the same virtual time. Its curves are
// drawn over A's chart in orange and its counters beside A's. Both reports
// are `gossip sim --json`'s for their configurations.
//
// Why a second Lab and not a second network in one: the runs must be
// exactly what `gossip sim` gives for each configuration, and a Lab is
// that; nothing in Rust changes (the package size stays where it is).

import { Lab, Status } from './pkg/gossip.js';
import { SpreadMirror } from './spread.js';

// parameters B may not change: the comparison is on one seed and one fault timeline
const FIXED = new Set(['seed', 'faults']);

/** `fanout:3,protocol:push` (the link's form) as `{ fanout: '3', protocol: 'push' }`; throws on a malformed part. */
export function parseCompare(text) {
  const out = {};
  for (const part of String(text).split(',')) {
    if (!part.trim()) continue;
    const i = part.indexOf(':');
    if (i <= 0) throw new Error(`compare: "${part}" is not name:value (for example compare=fanout:3,protocol:push)`);
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

export class Compare {
  /**
   * ctx: the page's `{ state, advanceBy, gossipCells }`
   * (app.js), read when needed.
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.lab = null; // B
    this.spec = null; // B's differing parameters, as given
    this.dropped = []; // A's parameters B's protocol does not read
    this.spread = new SpreadMirror(); // B's spread curves, as A's (spread.js)
    this.status = new Uint32Array(0);
  }

  get on() { return this.lab !== null; }

  /** B's parameters: A's scenario, then `spec` over it, less A's values B's configuration refuses as not read. */
  paramsFor(spec) {
    for (const k of Object.keys(spec)) {
      if (FIXED.has(k)) throw new Error(`compare: B runs on A's ${k === 'seed' ? 'seed' : 'fault timeline'}; change ${k} for both runs in the form`);
      if (k === 'preset') throw new Error('compare: give B the parameters it changes, not a preset');
    }
    const a = this.ctx.state.lab.scenario();
    const p = { ...a, ...spec };
    const dropped = [];
    // a value of A's that B's protocol or membership does not read is refused, not ignored: leave it out of B and say so
    for (let guard = 0; guard < 16; guard++) {
      const err = Lab.check_param(p);
      if (!err) break;
      if (err.param && err.param in a && !(err.param in spec) && /leave it out|does not apply|applies to|not read/i.test(err.message)) {
        delete p[err.param];
        dropped.push(err.param);
        continue;
      }
      throw new Error(`compare: ${err.message}`);
    }
    return { params: p, dropped };
  }

  /** Start B with `spec` (null: stop comparing); returns `{ a, b }`, the two runs' scenarios. */
  start(spec) {
    const { state } = this.ctx;
    if (spec === null || spec === undefined || (typeof spec === 'object' && !Object.keys(spec).length)) { this.stop(); return null; }
    if (typeof spec === 'string') spec = parseCompare(spec);
    if (state.kind !== 'gossip') throw new Error(`compare: side by side runs gossip runs (full nodes); this run is ${state.kind === 'swim' ? 'SWIM failure detection' : 'an overlay broadcast'}`);
    if (state.lab.connected()) throw new Error('compare: a run with real nodes cannot be replayed, so it cannot be run twice; disconnect first');
    const clean = {};
    for (const [k, v] of Object.entries(spec)) clean[k] = String(v);
    const { params, dropped } = this.paramsFor(clean);
    const lab = new Lab(params);
    if (lab.kind() !== 'gossip') { lab.free(); throw new Error('compare: B must be a gossip run too (full nodes)'); }
    // B starts where A's faults say, so bring it to A's time
    this.stop();
    this.lab = lab;
    this.spec = clean;
    this.dropped = dropped;
    this.catchUp();
    return this.scenarios();
  }

  stop() {
    if (this.lab) this.lab.free();
    this.lab = null;
    this.spec = null;
    this.dropped = [];
    this.spread = new SpreadMirror();
    this.status = new Uint32Array(0);
  }

  /** A restarted (new parameters, or Restart): B restarts over A's new scenario with the same changes, or stops if it no longer applies. */
  restart() {
    if (!this.spec) return null;
    const spec = this.spec;
    this.stop();
    return this.start(spec);
  }

  scenarios() { return this.lab ? { a: this.ctx.state.lab.scenario(), b: this.lab.scenario() } : null; }

  /** The two reports as `gossip sim --json` prints them (JSON text). */
  reports() { return this.lab ? { a: this.ctx.state.lab.report_json(), b: this.lab.report_json() } : null; }

  /** Bring B to A's time, synchronously (bounded: B's own time limit ends it). */
  catchUp() {
    const a = this.ctx.state.lab, b = this.lab;
    if (!b) return;
    const target = a.now();
    for (let guard = 0; guard < 1e7 && b.now() < target && !b.stopped(); guard++) if (b.advance(target, 1e6)) break;
    this.read(true);
  }

  /** After A advanced this frame by `want` virtual ms: B follows A's clock, or goes on alone once A stopped. */
  follow(want, workMs) {
    const a = this.ctx.state.lab, b = this.lab;
    if (!b || b.stopped()) { if (b) this.read(false); return; }
    const ms = a.stopped() ? want : a.now() - b.now();
    if (ms > 0) this.ctx.advanceBy(ms, workMs, b);
    this.read(false);
  }

  /** Step: B to A's time, or on by `ms` when A has stopped. */
  step(ms) {
    const a = this.ctx.state.lab, b = this.lab;
    if (!b) return;
    const target = a.stopped() ? b.now() + ms : a.now();
    for (let guard = 0; guard < 1e7 && !b.stopped(); guard++) if (b.advance(target, 1e6)) break;
    this.read(true);
  }

  /** Run B to its end, synchronously. */
  runToEnd() {
    const b = this.lab;
    if (!b) return;
    for (let guard = 0; guard < 1e7 && !b.stopped(); guard++) b.advance(Infinity, 1e6);
    this.read(true);
  }

  /** A fault applied to A now: B gets it at the same virtual time (if B ran ahead of A, B replays from the start with A's timeline). */
  fault(spec) {
    const a = this.ctx.state.lab, b = this.lab;
    if (!b) return;
    if (b.now() <= a.now()) {
      this.catchUp();
      try { b.fault(spec); } catch { /* A took it; B refuses only what does not apply to it, e.g. a node it lacks */ }
    } else {
      this.restart();
    }
  }

  read(force) {
    this.status = this.lab.status();
    // as A's: what the run logged in virtual time, copied a few times a second
    const wall = performance.now();
    if (force || wall - (this.lastSeries || 0) > 100) { this.lastSeries = wall; this.spread.sync(this.lab); }
  }

  /** B's counters: the same cells as A's (gossip runs), from B's metrics and status. */
  cells() {
    const b = this.lab;
    const m = b.metrics();
    let up = 0, current = 0;
    for (const s of this.status) { if (s !== Status.Down) up++; if (s === Status.Current) current++; }
    return this.ctx.gossipCells(m, up, current, b.stopped(), b);
  }

  /** What B changes, for the chart's key and the link: `fanout 3, protocol push`. */
  label() {
    const parts = Object.entries(this.spec || {}).map(([k, v]) => `${k} ${v}`);
    return parts.join(', ') + (this.dropped.length ? ` (without ${this.dropped.join(', ')}: not read)` : '');
  }
}
