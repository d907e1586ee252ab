// The sweep viewer (sweep.html): opens a CSV written by `gossip sweep -o`
// (file picker, drag and drop, or ?csv=URL), shows its runs as a sortable
// table and a metric against a varied parameter (the mean over seeds with
// its 95 % interval, or the runs' 10-90 % range, one line per value of the
// other varied parameters), and links every run to the lab with its
// configuration and seed, so a point on a curve can be watched. A row the
// lab cannot replay (too many nodes, a parameter it refuses) says why.
//
// The data side (parsing, groups, statistics, links) is sweepdata.js; this
// file is the DOM and the drawing. The lab's WebAssembly module is loaded
// only for its parameter table (defaults and presets: a link names only what
// differs, as the lab's own links do) and its checks.

import init, { Lab } from './pkg/gossip.js';
import { SweepInputError, parseCsv, analyze, plotSeries, labPairs, flattenReport } from './sweepdata.js';
import { pageLimit, labHash } from './lablink.js';

const $ = (id) => document.getElementById(id);
const COLORS = ['#60a5fa', '#fbbf24', '#34d399', '#f87171', '#c084fc', '#f472b6', '#2dd4bf', '#a3e635', '#fb923c', '#94a3b8'];
// The metrics shown first, where the sweep has them (as the CLI's summary).
const SHOWN = ['t_last_ms', 'rounds_full', 'messages_per_update', 'residue', 'messages_per_node', 'report.latency_ms.median', 'reliability.mean', 'detection.first_ms.mean'];
const MAX_ROWS = 500; // table rows drawn at once (sorting and filtering see every run)
const W = 960, H = 440, M = { l: 78, r: 20, t: 34, b: 56 };

const state = {
  table: null, // Lab.table() parsed, or null when the wasm did not load
  sweep: null, // analyze()'s result
  name: '',
  links: [], // per row: { href } or { why }
  sort: { col: -1, desc: false },
  filter: null, // a group: only its rows
  plot: null, // plotSeries()'s result as drawn
};

function showBanner(text, kind = 'error') {
  $('banner').className = `banner ${kind === 'info' ? 'info' : ''}`;
  $('banner-text').textContent = text;
  $('banner').hidden = false;
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A number with about four significant digits. */
function fmt(x) {
  if (!Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  const d = Math.min(6, Math.max(0, 3 - Math.floor(Math.log10(Math.abs(x)))));
  return x.toFixed(d);
}

// ---------- loading ----------

/** Load CSV `text` named `name`; on bad input keep what was shown and say why. Returns whether it loaded. */
function load(text, name) {
  let sweep;
  try {
    const t = parseCsv(text, name);
    sweep = analyze(t, state.table?.params.map((p) => p.name));
    if (!sweep.params.length) throw new SweepInputError(`${name}: no parameter columns (preset ... faults): not a gossip sweep CSV`);
    if (t.cut) showBanner(`${name}: its last line was cut short (a sweep still running, or interrupted): it is left out.`, 'info');
    else $('banner').hidden = true;
  } catch (e) {
    if (!(e instanceof SweepInputError)) throw e;
    showBanner(e.message);
    return false;
  }
  state.sweep = sweep;
  state.name = name;
  state.filter = null;
  state.sort = { col: -1, desc: false };
  state.links = links(sweep);
  $('source').textContent = name;
  $('intro').hidden = true;
  $('view').hidden = false;
  $('rows').hidden = false;
  fillControls();
  draw();
  renderTable();
  return true;
}

/** Per row, the lab link that replays it, or why there is none (checked once per configuration). */
function links(sweep) {
  const { header, rows, groups } = sweep;
  const out = new Array(rows.length);
  for (const g of groups) {
    let why = null;
    if (!state.table) why = 'the lab\'s WebAssembly module did not load';
    else {
      const first = labPairs(header, rows[g.rows[0]], state.table);
      if (first.error) why = first.error;
      else why = (pageLimit(first.pairs) ?? Lab.check_param(first.pairs))?.message ?? null;
    }
    for (const i of g.rows) {
      if (why) { out[i] = { why: `The lab cannot replay this run: ${why}` }; continue; }
      const { pairs } = labPairs(header, rows[i], state.table);
      out[i] = { href: `index.html#${labHash(pairs)}` };
    }
  }
  return out;
}

async function loadUrl(url) {
  let text;
  try {
    const r = await fetch(url, { cache: 'no-store' });
    if (!r.ok) throw new Error(`HTTP ${r.status} ${r.statusText}`.trim());
    text = await r.text();
  } catch (e) {
    showBanner(`Could not fetch the CSV at ${url}: ${e.message || e}`);
    return false;
  }
  return load(text, url.split('/').pop() || url);
}

async function loadFile(file) {
  if (!file) return false;
  if (file.size > 512 * 1024 * 1024) { showBanner(`${file.name}: ${Math.round(file.size / 1048576)} MB is more than this page reads (512 MB)`); return false; }
  return load(await file.text(), file.name);
}

// ---------- controls ----------

function fillControls() {
  const { header, metrics, varied, rows } = state.sweep;
  const varies = (c) => rows.some((r) => r[c] !== rows[0][c]);
  const ordered = [...metrics].sort((a, b) => {
    const rank = (c) => (SHOWN.includes(header[c]) ? SHOWN.indexOf(header[c]) : 100) + (varies(c) ? 0 : 1000);
    return rank(a) - rank(b) || header[a].localeCompare(header[b]);
  });
  $('metric').innerHTML = ordered.map((c) => `<option value="${c}">${esc(header[c])}${varies(c) ? '' : ' (the same in every run)'}</option>`).join('');
  $('xparam').innerHTML = varied.length ? varied.map((v) => `<option>${esc(v)}</option>`).join('') : '<option value="">(nothing varies)</option>';
}

// ---------- the plot ----------

function niceTicks(lo, hi) {
  const span = Math.max(hi - lo, 1e-12);
  const mag = 10 ** Math.floor(Math.log10(span / 5));
  const m = [1, 2, 5, 10].find((k) => span / (k * mag) <= 6) ?? 10;
  const step = m * mag, out = [];
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9 && out.length < 20; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

/** The plot of the chosen metric as SVG text (self-contained: it exports as it shows). */
function plotSvg() {
  const s = state.sweep;
  const m = Number($('metric').value);
  const xname = $('xparam').value || null;
  const band = $('band').value;
  const showRuns = $('runs').checked;
  const p = plotSeries(s, m, xname);
  state.plot = p;
  const pts = p.series.flatMap((q) => q.points);
  const lo = (q) => (band === 'ci' ? q.stats.mean - q.stats.half : band === 'q' ? q.q10 : q.stats.mean);
  const hi = (q) => (band === 'ci' ? q.stats.mean + q.stats.half : band === 'q' ? q.q90 : q.stats.mean);
  const ys = pts.flatMap((q) => [lo(q), hi(q), q.stats.mean, ...(showRuns ? q.values.map((v) => v.v) : [])]).filter(Number.isFinite);
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (y1 === y0) { y0 -= Math.abs(y0) * 0.1 || 1; y1 += Math.abs(y1) * 0.1 || 1; }
  const pad = (y1 - y0) * 0.06; y0 -= pad; y1 += pad;
  const xvals = pts.map((q) => q.x);
  let [x0, x1] = [Math.min(...xvals), Math.max(...xvals)];
  if (x1 === x0) { x0 -= 1; x1 += 1; } else { const px = (x1 - x0) * 0.05; x0 -= px; x1 += px; }
  const X = (v) => M.l + (v - x0) / (x1 - x0) * (W - M.l - M.r);
  const Y = (v) => H - M.b - (v - y0) / (y1 - y0) * (H - M.t - M.b);
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#121a2e"/>`);
  const title = `${s.header[m]}${xname ? ` against ${xname}` : ''}: mean over seeds${band === 'ci' ? ', 95 % confidence band' : band === 'q' ? ', 10–90 % of the runs' : ''}`;
  o.push(`<text x="${M.l}" y="20" fill="#e6ebf5" font-weight="600">${esc(title)}</text>`);
  // axes and grid
  for (const t of niceTicks(y0, y1)) {
    o.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" stroke="#24304d"/>`);
    o.push(`<text x="${M.l - 6}" y="${(Y(t) + 4).toFixed(1)}" fill="#8a97b3" text-anchor="end">${esc(String(t))}</text>`);
  }
  const xticks = p.categories ? p.categories.map((c, i) => [i, c]) : [...new Set(xvals)].map((v) => [v, String(v)]);
  for (const [v, label] of xticks.length > 12 ? niceTicks(x0, x1).map((t) => [t, String(t)]) : xticks) {
    o.push(`<line x1="${X(v).toFixed(1)}" x2="${X(v).toFixed(1)}" y1="${H - M.b}" y2="${H - M.b + 5}" stroke="#8a97b3"/>`);
    o.push(`<text x="${X(v).toFixed(1)}" y="${H - M.b + 18}" fill="#8a97b3" text-anchor="middle">${esc(label)}</text>`);
  }
  o.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="#8a97b3"/>`);
  o.push(`<text x="${(M.l + W - M.r) / 2}" y="${H - 12}" fill="#e6ebf5" text-anchor="middle">${esc(xname ?? 'every run')}</text>`);
  o.push(`<text transform="translate(16 ${(M.t + H - M.b) / 2}) rotate(-90)" fill="#e6ebf5" text-anchor="middle">${esc(s.header[m])}</text>`);
  // series: band, line, runs, means
  const spread = Math.min(10, (W - M.l - M.r) / Math.max(1, xticks.length) / (p.series.length + 1) / 2);
  p.series.forEach((q, k) => {
    const c = COLORS[k % COLORS.length];
    const dx = (k - (p.series.length - 1) / 2) * spread; // runs of the series side by side at each x
    const ok = q.points.filter((pt) => Number.isFinite(pt.stats.mean));
    o.push(`<g class="series" data-label="${esc(q.label)}">`);
    if (band !== 'none' && ok.length) {
      const up = ok.map((pt) => `${X(pt.x).toFixed(1)},${Y(hi(pt)).toFixed(1)}`);
      const down = ok.map((pt) => `${X(pt.x).toFixed(1)},${Y(lo(pt)).toFixed(1)}`).reverse();
      if (ok.length === 1) o.push(`<line x1="${X(ok[0].x)}" x2="${X(ok[0].x)}" y1="${Y(lo(ok[0])).toFixed(1)}" y2="${Y(hi(ok[0])).toFixed(1)}" stroke="${c}" stroke-width="6" stroke-opacity="0.3"/>`);
      else o.push(`<polygon points="${[...up, ...down].join(' ')}" fill="${c}" fill-opacity="0.18" stroke="none"/>`);
    }
    if (ok.length > 1) o.push(`<polyline points="${ok.map((pt) => `${X(pt.x).toFixed(1)},${Y(pt.stats.mean).toFixed(1)}`).join(' ')}" fill="none" stroke="${c}" stroke-width="2"/>`);
    if (showRuns) {
      for (const pt of q.points) {
        for (const { row, v } of pt.values) {
          const seed = s.rows[row][s.header.indexOf('seed')];
          o.push(`<circle class="run" data-row="${row}" cx="${(X(pt.x) + dx).toFixed(1)}" cy="${Y(v).toFixed(1)}" r="2.6" fill="${c}" fill-opacity="0.55"><title>run ${esc(s.rows[row][0])}, seed ${esc(seed)}: ${esc(fmt(v))} (click: replay in the lab)</title></circle>`);
        }
      }
    }
    for (const pt of ok) {
      const st = pt.stats;
      o.push(`<circle class="pt" data-config="${esc(pt.group.config)}" cx="${X(pt.x).toFixed(1)}" cy="${Y(st.mean).toFixed(1)}" r="4.5" fill="${c}" stroke="#0b1020" stroke-width="1.5"><title>${esc(q.label)}, ${esc(xname ?? '')}${xname ? '=' : ''}${esc(pt.xlabel)}: mean ${esc(fmt(st.mean))} ± ${esc(fmt(st.half))} over ${st.n} runs${pt.group.failures.length ? `, ${pt.group.failures.length} failing` : ''} (click: these runs)</title></circle>`);
    }
    o.push('</g>');
  });
  // legend
  let lx = W - M.r, ly = M.t - 14;
  const legend = p.series.map((q, k) => ({ q, k, w: 22 + q.label.length * 6.6 }));
  for (const { q, k, w } of legend.reverse()) {
    lx -= w + 10;
    if (lx < M.l + 340) break; // leave the title room; long legends are cut (the lines' tooltips name them)
    o.push(`<rect x="${lx.toFixed(0)}" y="${ly - 9}" width="14" height="10" fill="${COLORS[k % COLORS.length]}"/><text x="${(lx + 18).toFixed(0)}" y="${ly}" fill="#e6ebf5">${esc(q.label)}</text>`);
  }
  o.push('</svg>');
  return o.join('\n');
}

function draw() {
  const s = state.sweep;
  $('plot').innerHTML = plotSvg();
  const failing = s.groups.reduce((a, g) => a + g.failures.length, 0);
  const linked = state.links.filter((l) => l.href).length;
  $('about').textContent = `${s.rows.length} runs, ${s.groups.length} configuration${s.groups.length === 1 ? '' : 's'}`
    + `${s.varied.length ? ` (varied: ${s.varied.join(', ')})` : ''}, ${failing} failing run${failing === 1 ? '' : 's'}`
    + ` (lost updates, no convergence or the livelock guard). ${linked === s.rows.length ? 'Every run links to the lab.' : `${s.rows.length - linked} run${s.rows.length - linked === 1 ? '' : 's'} cannot be replayed in the lab (the row says why).`}`;
}

// ---------- the table ----------

/** The columns shown: run, config, the varied parameters, seed, failure, then the metrics (the chosen one first) and stop_reason. */
function shownColumns() {
  const { header, varied, metrics } = state.sweep;
  const m = Number($('metric').value);
  const idx = (n) => header.indexOf(n);
  const cols = [idx('run'), idx('config'), ...varied.map(idx), idx('seed'), 'fail', m, ...metrics.filter((c) => c !== m)];
  if (idx('stop_reason') >= 0) cols.push(idx('stop_reason'));
  return cols;
}

function renderTable() {
  const s = state.sweep;
  const cols = shownColumns();
  const name = (c) => (c === 'fail' ? 'failing' : s.header[c]);
  const isText = (c) => c === 'fail' || !s.metrics.includes(c) && !['run', 'config', 'seed'].includes(s.header[c]);
  $('table').tHead.innerHTML = `<tr><th class="text" data-col="lab">lab</th>${cols.map((c) => `<th data-col="${c}" class="${isText(c) ? 'text' : ''}${state.sort.col === c ? ` sorted${state.sort.desc ? ' desc' : ''}` : ''}">${esc(name(c))}</th>`).join('')}</tr>`;
  const fails = new Map(s.groups.flatMap((g) => g.failures.map((f) => [f.row, f.why])));
  let order = state.filter ? [...state.filter.rows] : s.rows.map((_, i) => i);
  const { col, desc } = state.sort;
  if (col !== -1) {
    const key = (i) => (col === 'fail' ? fails.get(i) ?? '' : s.rows[i][col]);
    const numeric = col !== 'fail' && order.every((i) => key(i) === '' || Number.isFinite(Number(key(i))));
    order.sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      const d = numeric ? (x === '' ? Infinity : Number(x)) - (y === '' ? Infinity : Number(y)) : x.localeCompare(y);
      return (desc ? -d : d) || a - b;
    });
  }
  const shown = order.slice(0, MAX_ROWS);
  $('table').tBodies[0].innerHTML = shown.map((i) => {
    const r = s.rows[i], link = state.links[i];
    const lab = link.href ? `<a href="${esc(link.href)}" target="_blank" rel="noopener" title="Replay run ${esc(r[0])} in the lab">▶ replay</a>` : `<span class="why" title="${esc(link.why)}">⚠ ${esc(link.why.replace(/^The lab cannot replay this run: /, ''))}</span>`;
    const cells = cols.map((c) => {
      if (c === 'fail') return `<td class="text${fails.has(i) ? ' fail' : ''}">${esc(fails.get(i) ?? '')}</td>`;
      return `<td class="${isText(c) ? 'text' : ''}">${esc(r[c])}</td>`;
    });
    return `<tr data-row="${i}" class="${link.href ? '' : 'nolink'}"><td class="text">${lab}</td>${cells.join('')}</tr>`;
  }).join('');
  const total = order.length;
  $('rows-note').textContent = `${state.filter ? `configuration ${state.filter.config}: ` : ''}${total} run${total === 1 ? '' : 's'}${total > MAX_ROWS ? `, the first ${MAX_ROWS} shown (sort to see others)` : ''}; click a row to replay it, a column to sort`;
  $('clear-filter').hidden = !state.filter;
}

/** Open run `row` in the lab (a new tab), or say why it cannot be. */
function openRun(row) {
  const link = state.links[row];
  if (!link) return;
  if (!link.href) { showBanner(link.why, 'info'); return; }
  window.open(link.href, '_blank', 'noopener');
}

// ---------- export ----------

function download(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function exportName(ext) {
  const base = state.name.replace(/\.csv$/i, '').replace(/[^\w.-]+/g, '_') || 'sweep';
  const m = state.sweep.header[Number($('metric').value)].replace(/[^\w.-]+/g, '_');
  return `${base}.${m}.${ext}`;
}

/** The plot as PNG (twice its size, for sharp text), a Blob. */
function plotPng() {
  const svg = new Blob([plotSvg()], { type: 'image/svg+xml' });
  const url = URL.createObjectURL(svg);
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => {
      const c = document.createElement('canvas');
      c.width = W * 2; c.height = H * 2;
      const g = c.getContext('2d');
      g.scale(2, 2);
      g.drawImage(img, 0, 0, W, H);
      URL.revokeObjectURL(url);
      c.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser made no PNG'))), 'image/png');
    };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error('the plot did not render as an image')); };
    img.src = url;
  });
}

// ---------- wiring ----------

function wire() {
  $('banner-close').onclick = () => { $('banner').hidden = true; };
  $('file').onchange = (e) => { loadFile(e.target.files[0]); e.target.value = ''; };
  for (const id of ['metric', 'xparam', 'band', 'runs']) $(id).onchange = () => { draw(); if (id === 'metric') renderTable(); };
  $('svg').onclick = () => download(exportName('svg'), new Blob([plotSvg()], { type: 'image/svg+xml' }));
  $('png').onclick = async () => {
    try { download(exportName('png'), await plotPng()); } catch (e) { showBanner(`PNG export failed: ${e.message || e}`); }
  };
  $('plot').onclick = (e) => {
    const run = e.target.closest('.run');
    if (run) { openRun(Number(run.dataset.row)); return; }
    const pt = e.target.closest('.pt');
    if (pt) {
      state.filter = state.sweep.groups.find((g) => g.config === pt.dataset.config) ?? null;
      renderTable();
      $('rows').scrollIntoView({ behavior: 'smooth', block: 'start' });
    }
  };
  $('clear-filter').onclick = () => { state.filter = null; renderTable(); };
  $('table').tHead.onclick = (e) => {
    const th = e.target.closest('th');
    if (!th || th.dataset.col === 'lab') return;
    const col = th.dataset.col === 'fail' ? 'fail' : Number(th.dataset.col);
    state.sort = { col, desc: state.sort.col === col ? !state.sort.desc : false };
    renderTable();
  };
  $('table').tBodies[0].onclick = (e) => {
    const tr = e.target.closest('tr');
    if (!tr || e.target.closest('a')) return; // the link opens itself
    openRun(Number(tr.dataset.row));
  };
  // drag and drop anywhere on the page
  let depth = 0;
  document.addEventListener('dragenter', (e) => { e.preventDefault(); depth++; document.body.classList.add('dragging'); });
  document.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; document.body.classList.remove('dragging'); } });
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault(); depth = 0; document.body.classList.remove('dragging');
    const f = e.dataTransfer?.files?.[0];
    if (f) loadFile(f); else showBanner('Drop a CSV file (written by gossip sweep -o).');
  });
}

// ---------- automation: window.sweepView ----------

const api = {
  /** Load CSV `text` as if opened as `name`; returns whether it loaded (else the banner says why). */
  load: (text, name = 'sweep.csv') => load(text, name),
  /** Fetch and load the CSV at `url`. */
  loadUrl,
  /** `{ runs, configs, varied, metric, x, series: [{ label, points }] }` of what is shown. */
  shown() {
    const s = state.sweep;
    if (!s) return null;
    return {
      runs: s.rows.length, configs: s.groups.length, varied: s.varied,
      metric: s.header[Number($('metric').value)], x: $('xparam').value || null,
      series: state.plot.series.map((q) => ({ label: q.label, points: q.points.map((p) => ({ x: p.xlabel, n: p.stats.n, mean: p.stats.mean, half: p.stats.half })) })),
    };
  },
  /** Choose the plotted metric (a column name) and, optionally, the varied parameter on x. */
  plot(metric, x) {
    const c = state.sweep.header.indexOf(metric);
    if (!state.sweep.metrics.includes(c)) throw new Error(`${metric} is not a numeric metric of this sweep`);
    $('metric').value = String(c);
    if (x !== undefined) $('xparam').value = x;
    draw(); renderTable();
  },
  /** Row `i` (CSV order) as `{ column: cell }`, with `lab`: its link or why none. */
  row(i) {
    const s = state.sweep;
    return { ...Object.fromEntries(s.header.map((h, c) => [h, s.rows[i][c]])), lab: state.links[i] };
  },
  /** The sweep's CSV columns of a `gossip sim --json` report (to compare a replay with its row). */
  flatten: (report) => flattenReport(report, state.table ? state.table.params.map((p) => p.name) : []),
  svg: () => plotSvg(),
  /** The plot as PNG: its size in bytes. */
  async pngBytes() { return (await plotPng()).size; },
};

async function main() {
  wire();
  try {
    await init();
    state.table = JSON.parse(Lab.table());
  } catch (e) {
    showBanner(`The lab's WebAssembly module did not load (${e.message || e}): the viewer shows sweeps, but its rows cannot link to the lab. Build it with scripts/build-web.sh.`);
  }
  window.sweepView = api;
  const url = new URLSearchParams(location.search).get('csv');
  if (url) await loadUrl(url);
  document.documentElement.dataset.ready = '1';
}

main();
