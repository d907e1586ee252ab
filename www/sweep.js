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
const MAX_ROWS = 200; // table rows drawn at once (sorting and filtering see every run; a wide table of more lays out slowly)
const W = 960, H = 450, M = { l: 78, r: 20, t: 52, b: 56 };

const state = {
  table: null, // Lab.table() parsed, or null when the wasm did not load
  sweep: null, // analyze()'s result
  name: '',
  links: [], // per row: { href } or { why }
  sort: { col: -1, desc: false },
  filter: null, // a group: only its rows
  plot: null, // layout()'s result as drawn
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
    if (!sweep.metrics.length) throw new SweepInputError(`${name}: no metric column holds numbers: nothing to plot`);
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
  const params = varied.length ? varied.map((v) => `<option>${esc(v)}</option>`).join('') : '<option value="">(nothing varies)</option>';
  // a metric on x: the trade-off (latency against messages), a point per configuration
  const trade = ordered.filter(varies).map((c) => `<option value="m:${c}">${esc(header[c])}</option>`).join('');
  $('xparam').innerHTML = `<optgroup label="a varied parameter">${params}</optgroup><optgroup label="a metric (trade-off)">${trade}</optgroup>`;
  $('runs').checked = rows.length <= 5000; // a dot per run: light enough up to a few thousand
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

/**
 * What to draw: per series, a point per configuration `{ x, y, xlo, xhi, ylo,
 * yhi, group, label, runs: [{ row, x, y }] }` in data units. Against a
 * parameter, x is its value (or category) and the band is vertical; against
 * a metric (the trade-off), x is that metric's mean with its own interval,
 * the configurations of a series joined in the order of the last varied
 * parameter.
 */
function layout(m, xsel, band) {
  const s = state.sweep;
  const span = (p) => (band === 'ci' ? [p.stats.mean - p.stats.half, p.stats.mean + p.stats.half] : band === 'q' ? [p.q10, p.q90] : [p.stats.mean, p.stats.mean]);
  if (!xsel.startsWith('m:')) {
    const p = plotSeries(s, m, xsel || null);
    const series = p.series.map((q) => ({ label: q.label, points: q.points.map((pt) => {
      const [ylo, yhi] = span(pt);
      return { x: pt.x, y: pt.stats.mean, xlo: pt.x, xhi: pt.x, ylo, yhi, n: pt.stats.n, half: pt.stats.half, group: pt.group, label: pt.xlabel, runs: pt.values.map((v) => ({ row: v.row, x: pt.x, y: v.v })) };
    }) }));
    return { series, categories: p.categories, xname: xsel || null, vertical: true };
  }
  const mx = Number(xsel.slice(2));
  // a line per value of the other varied parameters, through the last one's values (the last --vary changes fastest)
  const first = s.varied[s.varied.length - 1] ?? null;
  const py = plotSeries(s, m, first), px = plotSeries(s, mx, first);
  const series = py.series.map((q, k) => ({ label: q.label, points: q.points.map((pt, j) => {
    const ptx = px.series[k].points[j]; // the same configuration: same groups, same order
    const xv = new Map(ptx.values.map((v) => [v.row, v.v]));
    const [ylo, yhi] = span(pt), [xlo, xhi] = span(ptx);
    return { x: ptx.stats.mean, y: pt.stats.mean, xlo, xhi, ylo, yhi, n: pt.stats.n, half: pt.stats.half, group: pt.group, label: first ? `${first}=${pt.xlabel}` : '',
      runs: pt.values.filter((v) => xv.has(v.row)).map((v) => ({ row: v.row, x: xv.get(v.row), y: v.v })) };
  }) }));
  return { series, categories: null, xname: s.header[mx], vertical: false };
}

/** The plot of the chosen metric as SVG text (self-contained: it exports as it shows). */
function plotSvg() {
  const s = state.sweep;
  const m = Number($('metric').value);
  const band = $('band').value;
  const showRuns = $('runs').checked;
  const p = layout(m, $('xparam').value, band);
  state.plot = p;
  const pts = p.series.flatMap((q) => q.points).filter((q) => Number.isFinite(q.y) && Number.isFinite(q.x));
  const extent = (vals, padFrac) => {
    const v = vals.filter(Number.isFinite);
    let [lo, hi] = v.length ? [Math.min(...v), Math.max(...v)] : [0, 1];
    if (hi === lo) { lo -= Math.abs(lo) * 0.1 || 1; hi += Math.abs(hi) * 0.1 || 1; }
    const pad = (hi - lo) * padFrac;
    return [lo - pad, hi + pad];
  };
  const runs = showRuns ? pts.flatMap((q) => q.runs) : [];
  const [y0, y1] = extent([...pts.flatMap((q) => [q.ylo, q.yhi, q.y]), ...runs.map((r) => r.y)], 0.06);
  const [x0, x1] = extent([...pts.flatMap((q) => [q.xlo, q.xhi, q.x]), ...(p.vertical ? [] : runs.map((r) => r.x))], 0.05);
  const X = (v) => M.l + (v - x0) / (x1 - x0) * (W - M.l - M.r);
  const Y = (v) => H - M.b - (v - y0) / (y1 - y0) * (H - M.t - M.b);
  const f = (v) => v.toFixed(1);
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#121a2e"/>`);
  const bandName = band === 'ci' ? '95 % confidence interval' : band === 'q' ? '10–90 % of the runs' : '';
  const title = p.vertical
    ? `${s.header[m]}${p.xname ? ` against ${p.xname}` : ''}: mean over seeds${bandName ? `, ${bandName}` : ''}`
    : `${s.header[m]} against ${p.xname}: a point per configuration${bandName ? `, ${bandName} both ways` : ''}`;
  o.push(`<text x="${M.l}" y="20" fill="#e6ebf5" font-weight="600">${esc(title)}</text>`);
  // axes and grid
  for (const t of niceTicks(y0, y1)) {
    o.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${f(Y(t))}" y2="${f(Y(t))}" stroke="#24304d"/>`);
    o.push(`<text x="${M.l - 6}" y="${f(Y(t) + 4)}" fill="#8a97b3" text-anchor="end">${esc(String(t))}</text>`);
  }
  const distinct = [...new Set(pts.map((q) => q.x))];
  const xticks = p.categories ? p.categories.map((c, i) => [i, c]) : p.vertical && distinct.length <= 12 ? distinct.map((v) => [v, String(v)]) : niceTicks(x0, x1).map((t) => [t, String(t)]);
  for (const [v, label] of xticks) {
    o.push(`<line x1="${f(X(v))}" x2="${f(X(v))}" y1="${H - M.b}" y2="${H - M.b + 5}" stroke="#8a97b3"/>`);
    o.push(`<text x="${f(X(v))}" y="${H - M.b + 18}" fill="#8a97b3" text-anchor="middle">${esc(label)}</text>`);
  }
  o.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="#8a97b3"/>`);
  o.push(`<text x="${(M.l + W - M.r) / 2}" y="${H - 12}" fill="#e6ebf5" text-anchor="middle">${esc(p.xname ?? 'every run')}</text>`);
  o.push(`<text transform="translate(16 ${(M.t + H - M.b) / 2}) rotate(-90)" fill="#e6ebf5" text-anchor="middle">${esc(s.header[m])}</text>`);
  // series: band or error bars, line, runs, means
  const spread = p.vertical ? Math.min(10, (W - M.l - M.r) / Math.max(1, distinct.length) / (p.series.length + 1) / 2) : 0;
  p.series.forEach((q, k) => {
    const c = COLORS[k % COLORS.length];
    const dx = (k - (p.series.length - 1) / 2) * spread; // against a parameter: each series' runs side by side at each x
    const ok = q.points.filter((pt) => Number.isFinite(pt.y) && Number.isFinite(pt.x));
    o.push(`<g class="series" data-label="${esc(q.label)}">`);
    if (band !== 'none') {
      if (p.vertical && ok.length > 1) {
        const up = ok.map((pt) => `${f(X(pt.x))},${f(Y(pt.yhi))}`), down = ok.map((pt) => `${f(X(pt.x))},${f(Y(pt.ylo))}`).reverse();
        o.push(`<polygon points="${[...up, ...down].join(' ')}" fill="${c}" fill-opacity="0.18" stroke="none"/>`);
      } else {
        for (const pt of ok) {
          o.push(`<line x1="${f(X(pt.x))}" x2="${f(X(pt.x))}" y1="${f(Y(pt.ylo))}" y2="${f(Y(pt.yhi))}" stroke="${c}" stroke-width="${p.vertical ? 6 : 1.5}" stroke-opacity="${p.vertical ? 0.3 : 0.8}"/>`);
          if (!p.vertical) o.push(`<line x1="${f(X(pt.xlo))}" x2="${f(X(pt.xhi))}" y1="${f(Y(pt.y))}" y2="${f(Y(pt.y))}" stroke="${c}" stroke-width="1.5" stroke-opacity="0.8"/>`);
        }
      }
    }
    if (ok.length > 1) o.push(`<polyline points="${ok.map((pt) => `${f(X(pt.x))},${f(Y(pt.y))}`).join(' ')}" fill="none" stroke="${c}" stroke-width="2"${p.vertical ? '' : ' stroke-dasharray="5 4"'}/>`);
    const seed = s.header.indexOf('seed');
    if (showRuns) {
      for (const pt of q.points) {
        for (const r of pt.runs) {
          o.push(`<circle class="run" data-row="${r.row}" cx="${f(X(r.x) + dx)}" cy="${f(Y(r.y))}" r="2.6" fill="${c}" fill-opacity="0.55"><title>run ${esc(s.rows[r.row][0])}, seed ${esc(s.rows[r.row][seed])}: ${esc(fmt(r.y))}${p.vertical ? '' : `, ${esc(p.xname)} ${esc(fmt(r.x))}`} (click: replay in the lab)</title></circle>`);
        }
      }
    }
    for (const pt of ok) {
      o.push(`<circle class="pt" data-config="${esc(pt.group.config)}" cx="${f(X(pt.x))}" cy="${f(Y(pt.y))}" r="4.5" fill="${c}" stroke="#0b1020" stroke-width="1.5"><title>${esc(q.label)}${pt.label !== '' ? `, ${esc(p.vertical && p.xname ? `${p.xname}=${pt.label}` : pt.label)}` : ''}: mean ${esc(fmt(pt.y))} ± ${esc(fmt(pt.half))} over ${pt.n} runs${pt.group.failures.length ? `, ${pt.group.failures.length} failing` : ''} (click: these runs)</title></circle>`);
    }
    o.push('</g>');
  });
  // legend: a line under the title (cut when too long: the tooltips name the lines)
  let lx = M.l;
  for (const [k, q] of p.series.entries()) {
    const w = 28 + q.label.length * 6.6;
    if (lx + w > W - M.r) break;
    o.push(`<rect x="${lx.toFixed(0)}" y="31" width="14" height="10" fill="${COLORS[k % COLORS.length]}"/><text x="${(lx + 18).toFixed(0)}" y="40" fill="#e6ebf5">${esc(q.label)}</text>`);
    lx += w;
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
      metric: s.header[Number($('metric').value)], x: state.plot.xname,
      series: state.plot.series.map((q) => ({ label: q.label, points: q.points.map((p) => ({ x: state.plot.vertical ? p.label : p.x, n: p.n, mean: p.y, half: p.half })) })),
    };
  },
  /** Choose the plotted metric (a column name) and, optionally, what is on x: a varied parameter, or a metric (the trade-off). */
  plot(metric, x) {
    const col = (name) => {
      const c = state.sweep.header.indexOf(name);
      if (!state.sweep.metrics.includes(c)) throw new Error(`${name} is not a numeric metric of this sweep`);
      return c;
    };
    const changed = $('metric').value !== String(col(metric));
    $('metric').value = String(col(metric));
    if (x !== undefined) {
      if (!state.sweep.varied.includes(x) && ![...$('xparam').options].some((o) => o.value === `m:${col(x)}`)) throw new Error(`${x}: neither a varied parameter nor a metric that changes`);
      $('xparam').value = state.sweep.varied.includes(x) ? x : `m:${col(x)}`;
    }
    draw();
    if (changed) renderTable(); // the chosen metric is the table's first metric column
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
