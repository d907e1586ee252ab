// The convergence chart's data. The run (Rust, sim::spread_log) samples
// every update's coverage in virtual time; this mirrors that append-only log
// (copying only what is new) and turns it into what the chart draws: every
// curve while there are few updates, and past FEW_UPDATES a band of
// quantiles across updates plus a few highlighted curves, so a long run
// keeps every update instead of dropping old ones. `view(now)` depends only
// on the log and the virtual time, so the chart is the same at any speed and
// when stepping; window.gossipLab.series() returns exactly this view.

/** Past this many updates, the chart draws a band of quantiles. */
export const FEW_UPDATES = 40;
/** Quantiles of the band, across updates, at each age. */
export const QUANTILES = [0.1, 0.5, 0.9];
const BINS = 100; // fraction bins of the band's histograms (1 % each)

export class SpreadMirror {
  constructor() { this.reset(); }

  /** Forget everything (a new run, or a seek: the log is rebuilt). */
  reset() {
    this.updates = []; // { origin, epoch, counter, created, ages: [], fracs: [], done }
    this.nPoints = 0;
    this.step = 0; // the band's age step, ms (fixed per run)
    this.hist = []; // by age step: Uint32Array(BINS + 1) counts of finished updates' fractions
    this.folded = 0; // finished updates already counted in hist
    this.foldedUpTo = 0; // ages (steps) counted for them
  }

  /** Copy what the run logged since the last call. */
  sync(lab) {
    if (!this.step) this.step = Math.max(50, lab.spread_resolution());
    const u = lab.spread_updates(this.updates.length);
    for (let i = 0; i + 3 < u.length; i += 4) this.updates.push({ origin: u[i], epoch: u[i + 1], counter: u[i + 2], created: u[i + 3], ages: [], fracs: [], done: false, folded: false });
    const p = lab.spread_points(this.nPoints);
    for (let i = 0; i + 2 < p.length; i += 3) {
      const c = this.updates[p[i]];
      c.ages.push(p[i + 1]); c.fracs.push(p[i + 2]);
      if (p[i + 2] >= 1) c.done = true;
    }
    this.nPoints += p.length / 3;
  }

  /** Update `c`'s points up to virtual time `now`: an open update's curve runs flat to its age now. */
  points(c, now) {
    const pts = c.ages.map((a, k) => [a, c.fracs[k]]);
    const age = now - c.created;
    if (!c.done && pts.length && age > pts[pts.length - 1][0]) pts.push([age, pts[pts.length - 1][1]]);
    return pts;
  }

  /**
   * What the chart draws at virtual time `now`: `{ now, updates, curves:
   * [{ origin, epoch, counter, created, done, points: [[age_ms, fraction]] }],
   * band: null | { step_ms, quantiles, ages, q: [[...] per quantile], counts } }`.
   * With few updates, `curves` is every one; with many, the band (at each
   * age, the quantiles of the fraction over the updates finished or at
   * least that old) and `curves` the highlighted: the first update, the
   * slowest and the three latest.
   */
  view(now) {
    const n = this.updates.length;
    const shape = (c) => ({ origin: c.origin, epoch: c.epoch, counter: c.counter, created: c.created, done: c.done, points: this.points(c, now) });
    if (n <= FEW_UPDATES) return { now, updates: n, curves: this.updates.map(shape), band: null };
    // highlighted: first, slowest (longest to finish, or oldest still open), latest three
    let slow = 0, slowAge = -1;
    this.updates.forEach((c, k) => { const a = c.done ? c.ages[c.ages.length - 1] : now - c.created; if (a > slowAge) { slowAge = a; slow = k; } });
    const pick = [...new Set([0, slow, n - 3, n - 2, n - 1])].sort((a, b) => a - b);
    return { now, updates: n, curves: pick.map((k) => shape(this.updates[k])), band: this.band(now) };
  }

  band(now) {
    const step = this.step;
    let maxAge = 0;
    for (const c of this.updates) maxAge = Math.max(maxAge, c.done ? c.ages[c.ages.length - 1] : now - c.created);
    const rows = Math.floor(maxAge / step) + 1;
    // finished updates never change: fold them into the histograms once
    // (and for the ages added since, since a finished one counts at every age)
    this.extend(rows);
    const counts = this.hist.slice(0, rows).map((h) => Uint32Array.from(h));
    for (const c of this.updates) if (!c.folded) addCurve(counts, c, step, Math.floor((now - c.created) / step) + 1);
    const ages = [], q = QUANTILES.map(() => []), total = [];
    for (let r = 0; r < rows; r++) {
      const h = counts[r];
      let sum = 0;
      for (let b = 0; b <= BINS; b++) sum += h[b];
      ages.push(r * step); total.push(sum);
      QUANTILES.forEach((x, j) => q[j].push(sum ? quantile(h, sum, x) : null));
    }
    return { step_ms: step, quantiles: QUANTILES, ages, q, counts: total };
  }

  // histograms for `rows` age steps, with every finished update folded in
  extend(rows) {
    while (this.hist.length < rows) {
      const h = new Uint32Array(BINS + 1);
      h[BINS] = this.folded; // a finished update is at 1 at every later age
      this.hist.push(h);
    }
    for (const c of this.updates) {
      if (c.folded || !c.done) continue;
      addCurve(this.hist, c, this.step, this.hist.length);
      c.folded = true; this.folded++;
    }
  }
}

// add curve `c`'s fraction at ages 0, step, ... (rows of them) to the histograms
function addCurve(hist, c, step, rows) {
  rows = Math.min(rows, hist.length);
  let k = 0;
  const last = c.ages.length - 1;
  for (let r = 0; r < rows; r++) {
    const a = r * step;
    while (k < last && c.ages[k + 1] <= a) k++;
    let f;
    if (a >= c.ages[last]) f = c.fracs[last];
    else if (a <= c.ages[k]) f = c.fracs[k];
    else { const a0 = c.ages[k], a1 = c.ages[k + 1]; f = c.fracs[k] + (c.fracs[k + 1] - c.fracs[k]) * (a - a0) / (a1 - a0); }
    hist[r][Math.min(BINS, Math.max(0, Math.floor(f * BINS + 1e-9)))]++;
  }
}

function quantile(h, sum, x) {
  const want = x * sum;
  let acc = 0;
  for (let b = 0; b <= BINS; b++) { acc += h[b]; if (acc >= want) return b / BINS; }
  return 1;
}
