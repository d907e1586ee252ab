// The sweep viewer's data, without the DOM (so node can test it too): the
// CSV `gossip sweep -o` writes (RFC 4180, src/experiment/table.rs), read and
// checked with a clear message; its rows grouped by configuration and the
// parameters that vary found as src/experiment/summary.rs does; the mean,
// standard deviation and Student's t 95 % interval of a metric over a
// configuration's seeds, computed as src/experiment/stats.rs does (so the
// viewer's numbers equal NAME.summary.csv's); a run's report flattened into
// the CSV's columns; and the lab link that replays a row.

/** A CSV that is not a sweep's, with what is wrong and where. */
export class SweepInputError extends Error {}

/** Parse CSV `text` into `{ header, rows, cut }` (`cut`: a last line cut short was dropped); `what` names the file in messages. Throws SweepInputError. */
export function parseCsv(text, what = 'the file') {
  if (typeof text !== 'string') throw new SweepInputError(`${what}: not text`);
  if (text.includes('\0')) throw new SweepInputError(`${what}: a binary file, not a CSV`);
  if (text.startsWith('\uFEFF')) text = text.slice(1); // a byte order mark (a spreadsheet saved it)
  const records = [];
  let line = 1, cut = false, i = 0;
  while (i < text.length) {
    let end = text.indexOf('\n', i);
    const whole = end >= 0;
    if (!whole) end = text.length;
    const raw = text.slice(i, end);
    if (!raw.includes('"')) {
      // the common case: no quoted cell on this line
      records.push({ cells: (raw.endsWith('\r') ? raw.slice(0, -1) : raw).split(','), line, last: !whole });
      i = end + 1;
      line++;
      continue;
    }
    // a quoted cell (which may hold commas, quotes and line ends): cell by cell
    const record = [], first = line;
    let field = '', quoted = false, j = i;
    for (; j < text.length; j++) {
      const c = text[j];
      if (quoted) {
        if (c === '"' && text[j + 1] === '"') { field += '"'; j++; }
        else if (c === '"') quoted = false;
        else { if (c === '\n') line++; field += c; }
      } else if (c === '"' && field === '') quoted = true;
      else if (c === ',') { record.push(field); field = ''; }
      else if (c === '\n') break;
      else if (c !== '\r') field += c;
    }
    if (quoted) {
      // a quote never closed: a last line cut short (a sweep still writing), else a broken file
      if (first !== line) throw new SweepInputError(`${what}: line ${first}: a quoted cell is never closed`);
      cut = true;
      break;
    }
    record.push(field);
    records.push({ cells: record, line: first, last: j >= text.length });
    i = j + 1;
    line++;
  }
  const header = records.shift();
  if (!header || (header.cells.length === 1 && header.cells[0].trim() === '')) throw new SweepInputError(`${what}: empty, no header line`);
  const h = header.cells;
  if (h[0] !== 'run' || h[1] !== 'config') {
    throw new SweepInputError(`${what}: not a gossip sweep CSV: its header must start with run,config (it starts with ${JSON.stringify(h.slice(0, 3).join(','))})`);
  }
  if (!h.includes('seed')) throw new SweepInputError(`${what}: not a gossip sweep CSV: no "seed" column`);
  const dup = h.find((x, i) => h.indexOf(x) !== i);
  if (dup !== undefined) throw new SweepInputError(`${what}: the column ${JSON.stringify(dup)} is named twice`);
  const rows = [];
  for (const r of records) {
    if (r.cells.length === 1 && r.cells[0] === '') continue; // a blank line
    if (r.last && r.cells.length < h.length) { cut = true; continue; }
    if (r.cells.length !== h.length) throw new SweepInputError(`${what}: line ${r.line} has ${r.cells.length} cells, the header ${h.length}`);
    rows.push(r.cells);
  }
  if (!rows.length) throw new SweepInputError(`${what}: a header but no runs`);
  const run = h.indexOf('run');
  const bad = rows.findIndex((r) => !/^\d+$/.test(r[run]));
  if (bad >= 0) throw new SweepInputError(`${what}: row ${bad + 1}: the run ${JSON.stringify(rows[bad][run])} is not a whole number`);
  return { header: h, rows, cut };
}

/** Whether a cell reads as a number (empty cells do not). */
const isNum = (s) => s !== '' && Number.isFinite(Number(s));

/**
 * The parameter columns of `header`: `preset` and the parameter table's
 * names (`paramNames`, from Lab.table()); without the table, the columns
 * from `preset` through `faults` (the order the sweep writes).
 */
export function paramColumns(header, paramNames) {
  if (paramNames) {
    const names = new Set(['preset', ...paramNames]);
    return header.map((h, i) => (names.has(h) ? i : -1)).filter((i) => i >= 0);
  }
  const a = header.indexOf('preset'), b = header.indexOf('faults');
  if (a < 0 || b < a) return [];
  return header.map((_, i) => i).filter((i) => i >= a && i <= b);
}

/**
 * The sweep: `{ header, rows, params, metrics, groups, varied }`. `params`:
 * parameter column indices; `metrics`: the other columns whose every cell is
 * a number or empty (at least one a number); `groups`: the configurations
 * (`{ config, key, rows, values, failures }`, rows by index) in order of first
 * appearance, grouped by every parameter but the seed; `varied`: the
 * parameter names that differ between configurations.
 */
export function analyze(table, paramNames) {
  const { header, rows } = table;
  const params = paramColumns(header, paramNames);
  const isParam = new Set(params);
  const metrics = header.map((_, c) => c).filter((c) => c > 1 && !isParam.has(c)
    && rows.every((r) => r[c] === '' || isNum(r[c])) && rows.some((r) => r[c] !== ''));
  const keys = params.filter((c) => header[c] !== 'seed');
  const groups = [], byKey = new Map();
  const cfg = header.indexOf('config');
  rows.forEach((r, i) => {
    const key = keys.map((c) => r[c]).join('\u0001');
    let g = byKey.get(key);
    if (!g) {
      g = { config: r[cfg], key, cells: Object.fromEntries(keys.map((c) => [header[c], r[c]])), rows: [], failures: [] };
      byKey.set(key, g);
      groups.push(g);
    }
    g.rows.push(i);
    const why = failure(header, r);
    if (why) g.failures.push({ row: i, why });
  });
  const varied = keys.filter((c) => groups.some((g) => g.cells[header[c]] !== groups[0].cells[header[c]])).map((c) => header[c]);
  return { header, rows, params, metrics, groups, varied };
}

/** Why a run failed (as the sweep's summary says), or null. */
export function failure(header, r) {
  const num = (name) => { const c = header.indexOf(name); return c >= 0 && isNum(r[c]) ? Number(r[c]) : null; };
  const stop = header.indexOf('stop_reason');
  if (stop >= 0 && r[stop] === 'livelock-guard') return 'livelock guard';
  if (num('lost_updates') > 0) return 'lost updates';
  if (num('updates') > 0 && num('residue') > 0) return 'no convergence';
  return null;
}

// ---------- statistics (as src/experiment/stats.rs) ----------

/** `{ n, mean, sd, half }` of `xs`: the sample standard deviation and the half-width of the 95 % interval of the mean (Student's t). */
export function summary(xs) {
  const n = xs.length;
  if (!n) return { n, mean: NaN, sd: NaN, half: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean, sd: 0, half: 0 };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) * (x - mean), 0) / (n - 1));
  return { n, mean, sd, half: tQuantile975(n - 1) * sd / Math.sqrt(n) };
}

/** The quantile `q` (0..1) of sorted `xs`, linearly interpolated. */
export function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const at = (sorted.length - 1) * q, lo = Math.floor(at), hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** Two-sided p-value of Student's t with `df` degrees of freedom. */
export function twoSidedP(t, df) {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  return Math.min(1, Math.max(0, incBeta(df / (df + t * t), df / 2, 0.5)));
}

const T975 = new Map(); // df -> quantile: a plot asks for the same few again and again

/** The 0.975 quantile of Student's t with `df` degrees of freedom, by bisection. */
export function tQuantile975(df) {
  if (!T975.has(df)) T975.set(df, bisectT975(df));
  return T975.get(df);
}

function bisectT975(df) {
  let lo = 0, hi = 1;
  while (twoSidedP(hi, df) > 0.05) { hi *= 2; if (hi > 1e12) return Infinity; }
  for (let k = 0; k < 200; k++) {
    const mid = 0.5 * (lo + hi);
    if (twoSidedP(mid, df) > 0.05) lo = mid; else hi = mid;
    if (hi - lo < 1e-12 * hi) break;
  }
  return 0.5 * (lo + hi);
}

/** The regularized incomplete beta function I_x(a, b). */
function incBeta(x, a, b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // the continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise
  if (x < (a + 1) / (a + b + 2)) return front * betaFraction(x, a, b) / a;
  return 1 - front * betaFraction(1 - x, b, a) / b;
}

/** The continued fraction of I_x(a, b), by the modified Lentz method. */
function betaFraction(x, a, b) {
  const TINY = 1e-300;
  let c = 1, d = 1 - (a + b) * x / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d; if (Math.abs(d) < TINY) d = TINY; d = 1 / d;
    c = 1 + num / c; if (Math.abs(c) < TINY) c = TINY;
    f *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d; if (Math.abs(d) < TINY) d = TINY; d = 1 / d;
    c = 1 + num / c; if (Math.abs(c) < TINY) c = TINY;
    const step = d * c;
    f *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return f;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9). */
function lnGamma(x) {
  const G = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  x -= 1;
  let s = G[0];
  for (let i = 1; i < 9; i++) s += G[i] / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
}

// ---------- series for a plot ----------

/**
 * The plot of metric column `m` against varied parameter `xname`: one series
 * per value of the other varied parameters, each a list of points (one per
 * configuration, sorted by x) `{ x, xlabel, group, stats, values: [{ row, v }] }`.
 * x is the parameter's value when every value is a number, else the index of
 * the value among the distinct ones (`categories`).
 */
export function plotSeries(sweep, m, xname) {
  const { groups, varied, rows } = sweep;
  const others = varied.filter((v) => v !== xname);
  const xs = [];
  for (const g of groups) { const v = xname ? g.cells[xname] : ''; if (!xs.includes(v)) xs.push(v); }
  const numeric = xname && xs.every(isNum);
  const categories = numeric ? null : xs;
  const series = [];
  for (const g of groups) {
    const label = others.length ? others.map((o) => `${o}=${g.cells[o]}`).join(' ') : 'all runs';
    let s = series.find((t) => t.label === label);
    if (!s) { s = { label, points: [] }; series.push(s); }
    const xv = xname ? g.cells[xname] : '';
    const values = g.rows.filter((i) => isNum(rows[i][m])).map((i) => ({ row: i, v: Number(rows[i][m]) }));
    const sorted = values.map((p) => p.v).sort((a, b) => a - b);
    s.points.push({ x: numeric ? Number(xv) : xs.indexOf(xv), xlabel: xv, group: g, values, stats: summary(sorted), q10: quantile(sorted, 0.1), q90: quantile(sorted, 0.9) });
  }
  for (const s of series) s.points.sort((a, b) => a.x - b.x);
  return { series, categories, xname };
}

// ---------- the lab link of a row ----------

/**
 * The lab's parameters for row `r`: as the lab's own links write them
 * (SimParams::to_pairs): `preset` if any, then every parameter whose value
 * differs from the preset's or the table's default; `engine` is left out (the
 * lab always holds full nodes, and every engine runs the same run).
 * `table` is Lab.table()'s parsed JSON.
 */
export function labPairs(header, r, table) {
  const cell = (n) => { const c = header.indexOf(n); return c >= 0 ? r[c] : undefined; };
  const out = {};
  const preset = cell('preset') || '';
  let base = {};
  if (preset) {
    const p = table.presets.find((q) => q.name === preset);
    if (!p) return { error: `the preset ${JSON.stringify(preset)} is not one this lab knows` };
    out.preset = preset;
    base = p.values;
  }
  for (const p of table.params) {
    const v = cell(p.name);
    if (v === undefined) return { error: `the CSV has no ${p.name} column (a sweep of another gossip version?)` };
    if (p.name === 'engine') continue;
    const def = base[p.name] ?? p.default;
    if (v !== String(def)) out[p.name] = v;
  }
  return { pairs: out };
}

/**
 * The report's scalars flattened as the sweep's CSV columns
 * (src/experiment/table.rs): nested keys joined with dots, arrays and the
 * report's `config` left out, a key that is a parameter's name (or `run`,
 * `config`) prefixed `report.`, null an empty cell.
 */
export function flattenReport(report, paramNames) {
  const params = new Set(['preset', 'run', 'config', ...paramNames]);
  const out = {};
  const walk = (name, v) => {
    if (Array.isArray(v)) return;
    if (v !== null && typeof v === 'object') { for (const [k, w] of Object.entries(v)) walk(`${name}.${k}`, w); return; }
    out[name] = v === null ? '' : String(v);
  };
  for (const [k, v] of Object.entries(report)) if (k !== 'config') walk(params.has(k) ? `report.${k}` : k, v);
  return out;
}
