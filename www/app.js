// The browser lab: Rust (wasm) owns the run, this file owns the frame loop,
// the controls and the URL. Each frame it advances the run within a time
// budget, then reads one status array, the new flights and (a few times a
// second) the counters. Connected to real nodes, it also pumps the bridge
// once a frame (the fetches themselves run in Rust) and runs the network at
// wall-clock speed.
//
// Three kinds of run (`Lab.kind()`): gossip among full nodes, SWIM members
// (each frame also reads how many members suspect each node and, for the
// selected node, its view of the others) and overlays (each frame also
// reads the links, Plumtree's eager ones drawn as the tree).

import init, { Lab, Status, Kind, Seen, Link } from './pkg/gossip.js';
import { NetView } from './netview.js';
import { Chart, chartScene } from './chart.js';
import { chartSvg } from './chartsvg.js';
import { theoryLine } from './theory.js';
import { PAGE_MAX_COMPACT_NODES, PAGE_MAX_MOVIES_NODES, pageLimit, labHash } from './lablink.js';
import { installTeach } from './teach.js';
import { dropCells, partitionCells, simCommand, replayNote, chartPng, exportName } from './honest.js';
import { installLayout } from './layout.js';
import { ToldView, dissemination, inFlight, flightAt, renderFlight } from './told.js';
import { isCompact, renderCompactInspector, compactTip, markCompactControls, warmCompact } from './compact.js';
import { SpreadMirror } from './spread.js';
import { TimeControl, WALL_CLOCK_WHY } from './timectl.js';
import { DrawPacer, upAndCurrent, maxOf } from './pace.js';

// What the page shows when its URL says nothing: the course app.
const PAGE_DEFAULTS = {
  nodes: 50, seed: 1, scenario: 'movies', model: 'events', protocol: 'push-pull', fanout: 2, ttl: 6,
  interval_ms: 1000, latency_ms: 60, jitter_ms: 40, loss: 0, duration_s: 60, eager: 'auto',
};
// Simulation work per frame: adapted between these so frames keep coming at
// 50+ per second; a big network then runs slower than real time (the status
// pill says how much).
const WORK_MS_MIN = 2;
const WORK_MS_MAX = 12;
const CHUNK_MS = 2; // one advance() call should take about this long

// The columns of Lab.metric_rows (sim::live::ROW_COLUMNS, in this order).
const METRIC_COLUMNS = ['time_ms', 'nodes_up', 'nodes_up_to_date', 'updates', 'messages', 'bytes', 'duplicates', 'lost_messages', 'partitioned_messages', 'latency_median_ms', 'latency_p99_ms', 'latency_max_ms'];

const $ = (id) => document.getElementById(id);
const form = $('params');

/** Frame counters from zero (`gossipLab.frameStats()` reads and resets them). */
function freshProf() { return { frames: 0, drawn: 0, advance: 0, read: 0, draw: 0, ui: 0, turbo: 0 }; }

const state = {
  lab: null,
  params: null, // every parameter of the current run
  playing: true,
  speed: 1, // virtual ms per wall ms, or 'max'
  lastWall: 0,
  status: new Uint32Array(0),
  groups: new Uint16Array(0),
  spread: new SpreadMirror(), // the run's spread log, copied (spread.js)
  rows: [], // the run's counters at fixed steps of virtual time (Lab.metric_rows)
  faults: [], // the scenario's faults: [{ at, text }]
  seeking: null, // the time a seek asked on the page goes to, on its way (seekFromPage)
  seekFrom: 0, // where that seek's replay started
  table: null, // Lab.table(): the parameters, the protocol registry, the presets
  lastCounters: 0,
  lastInspect: 0,
  metrics: null,
  prof: freshProf(),
  chunk: 2000, // events per advance() call, adapted
  workMs: 8, // simulation work per frame, adapted
  period: 16.7, // smoothed frame period, ms
  showFlights: true,
  lastChart: 0,
  kinds: new Uint8Array(0),
  natives: [],
  lastReal: 0,
  connection: null, // { url, opts } while connected: a restart reconnects
  kind: 'gossip', // Lab.kind(): gossip, swim or overlay
  suspects: new Uint32Array(0), // swim: live members suspecting each node
  view: null, // swim: the selected member's Seen code per node
  links: new Uint32Array(0), // overlay: Link.Len numbers a link
};

let net, chart, time;
const pacer = new DrawPacer(); // whether a frame draws at max speed (pace.js)
// teach.js's hooks (explanations, lessons, compare mode); null until main() installs them
let teach = null;
const told = new ToldView(document.getElementById('told')); // who told whom (told.js)

// ---------- messages ----------

function showBanner(text, kind = 'error') {
  const b = $('banner');
  b.className = `banner ${kind === 'info' ? 'info' : ''}`;
  $('banner-text').textContent = text;
  b.hidden = false;
}
function hideBanner() { $('banner').hidden = true; }

// ---------- parameters, form and URL ----------

function paramsFromHash() {
  const h = location.hash.replace(/^#/, '');
  if (!h) return { params: { ...PAGE_DEFAULTS }, error: null, extras: {} };
  const out = {};
  try {
    for (const part of h.split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      if (eq <= 0) throw new Error(`"${part}" is not name=value`);
      out[decodeURIComponent(part.slice(0, eq))] = decodeURIComponent(part.slice(eq + 1));
    }
  } catch (e) {
    return { params: { ...PAGE_DEFAULTS }, error: `This link's scenario could not be read (${e.message}).`, extras: {} };
  }
  // the pairs teach.js reads (compare=, lesson=) are not the run's parameters
  const extras = {};
  for (const k of teach?.extraKeys ?? []) if (k in out) { extras[k] = out[k]; delete out[k]; }
  return { params: out, error: null, extras };
}

// Start the run a link describes, then its lesson and compared run.
function startLink(params, extras) {
  start(teach ? teach.paramsFor(params, extras) : params);
  if (teach) { teach.afterLink(extras); writeHash(); }
}

function writeHash() {
  if (!state.lab) return;
  const pairs = state.lab.scenario();
  history.replaceState(null, '', `#${labHash([...Object.entries(pairs), ...(teach ? teach.hashPairs() : [])])}`);
}

// The form's fields, built from the parameter table: each [data-fields] box
// holds the parameters it names, in order; "*" is every parameter no box
// names (but those in data-skip); "preset" the presets.
function buildForm() {
  const table = JSON.parse(Lab.table());
  state.table = table;
  const byName = new Map(table.params.map((p) => [p.name, p]));
  const placed = new Set();
  const boxes = [...form.querySelectorAll('[data-fields]')];
  const names = (box) => box.dataset.fields.split(/\s+/).filter(Boolean);
  for (const rest of [false, true]) {
    for (const box of boxes.filter((b) => names(b).includes('*') === rest)) {
      const skip = new Set((box.dataset.skip || '').split(/\s+/));
      for (const n of names(box)) {
        const list = n === '*' ? table.params.map((p) => p.name).filter((m) => !placed.has(m) && !skip.has(m)) : [n];
        for (const m of list) {
          if (m === 'preset') box.append(presetField(table.presets));
          else if (byName.has(m)) box.append(paramField(byName.get(m)));
          placed.add(m);
        }
      }
    }
  }
}

function paramField(p) {
  const label = document.createElement('label');
  label.title = p.help;
  // shown only for the protocols that read it (the registry's lists)
  if (p.protocols) label.dataset.protocols = p.protocols.join(' ');
  // and only for the memberships that read it (the refusal rules)
  if (p.memberships) label.dataset.memberships = p.memberships.join(' ');
  // and only for the models that read it (the network's timing: events)
  if (p.models) label.dataset.models = p.models.join(' ');
  let el;
  if (p.kind === 'choice') {
    el = document.createElement('select');
    for (const c of p.choices) {
      const o = new Option(c.label, c.value);
      o.title = c.help;
      el.append(o);
    }
  } else {
    el = document.createElement('input');
    if (p.kind === 'int' || p.kind === 'float') {
      el.type = 'number';
      if (p.min !== null) el.min = String(p.min);
      const max = p.name === 'nodes' ? PAGE_MAX_COMPACT_NODES : p.max;
      if (max !== null) el.max = String(max);
      el.step = p.step === null ? 'any' : String(p.step);
    } else {
      el.type = 'text';
      el.spellcheck = false;
    }
    if (p.empty) el.placeholder = p.empty;
  }
  el.name = p.name;
  label.append(`${p.label} `, el);
  return label;
}

function presetField(presets) {
  const label = document.createElement('label');
  label.title = 'A named configuration: choosing one fills the form with its values';
  const el = document.createElement('select');
  el.name = 'preset';
  el.append(new Option('none', ''));
  for (const p of presets) {
    const o = new Option(p.name, p.name);
    o.title = p.summary;
    el.append(o);
  }
  // a preset fills the form (its values over the defaults); none keeps the values
  el.onchange = () => {
    const preset = presets.find((p) => p.name === el.value);
    if (!preset) return;
    const values = { preset: preset.name };
    for (const p of state.table.params) values[p.name] = preset.values[p.name] ?? p.default;
    fillForm(values);
  };
  label.append('Preset ', el);
  return label;
}

function fillForm(p) {
  for (const el of form.elements) {
    if (!el.name) continue;
    const v = p[el.name];
    el.value = v === null || v === undefined ? '' : String(v);
    el.classList.remove('invalid');
  }
  syncProtocolFields();
  // show the more parameters when any of them is not at its default
  const more = $('more-params');
  const defaults = new Map(state.table.params.map((q) => [q.name, q.default]));
  if ([...more.querySelectorAll('[name]')].some((el) => el.value !== (defaults.get(el.name) ?? ''))) more.open = true;
}

// Every field the chosen protocol and membership read (hidden ones do not
// apply) whose value is not the default (the preset's value, or the
// table's): a value that does not apply is refused when given, and a value
// at its default need not be.
function formParams() {
  const p = {};
  const preset = state.table.presets.find((q) => q.name === form.elements.preset?.value);
  const defaults = new Map(state.table.params.map((q) => [q.name, preset?.values[q.name] ?? q.default]));
  for (const el of form.elements) {
    if (!el.name || el.closest('label.off')) continue;
    const v = el.value.trim();
    if (el.name !== 'preset' && defaults.has(el.name) && v === String(defaults.get(el.name))) continue;
    p[el.name] = v;
  }
  return p;
}

function syncProtocolFields() {
  const protocol = form.elements.protocol.value;
  const membership = form.elements.membership?.value;
  const model = form.elements.model?.value;
  // a SWIM field the chosen Lifeguard parts and suspicion do not read, by
  // the rule gossip sim refuses it with (asked with the field at its default)
  const swimUnread = (label) => {
    if (membership !== 'swim' || label.dataset.memberships !== 'swim') return false;
    const name = label.querySelector('[name]').name;
    const p = { membership: 'swim', model: 'events', lifeguard: form.elements.lifeguard.value, suspicion: form.elements.suspicion.value };
    p[name] = state.table.params.find((q) => q.name === name).default;
    return Lab.check_param(p)?.param === name;
  };
  for (const label of form.querySelectorAll('label[data-protocols], label[data-memberships], label[data-models]')) {
    const off = (label.dataset.protocols && !label.dataset.protocols.split(' ').includes(protocol))
      || (label.dataset.memberships && !label.dataset.memberships.split(' ').includes(membership))
      || (label.dataset.models && !label.dataset.models.split(' ').includes(model))
      || swimUnread(label);
    label.classList.toggle('off', !!off);
  }
  $('net-timing').hidden = model !== 'rounds';
}

// A new membership may rule out the scenario, protocol or model in the
// form (SWIM detects failures in the single scenario; an overlay runs
// plumtree or flood): pick the first choice the rules accept.
function fitMembership() {
  syncProtocolFields();
  for (let tries = 0; tries < 4; tries++) {
    const err = Lab.check_param(formParams());
    const el = err && form.elements[err.param];
    if (!el || el.tagName !== 'SELECT' || el.name === 'membership') return;
    const ok = [...el.options].map((o) => o.value).find((v) => {
      const p = { ...formParams(), [el.name]: v };
      const e = Lab.check_param(p);
      return !e || e.param !== el.name;
    });
    if (ok === undefined) return;
    el.value = ok;
    syncProtocolFields();
  }
}

// Mark the field of the parameter an error names (as the table names it).
function markInvalid(param) {
  for (const el of form.elements) if (el.name) el.classList.toggle('invalid', el.name === param);
  const el = param && form.elements[param];
  if (el && el.closest) el.closest('details')?.setAttribute('open', '');
}

// Check `params` for the page; null if fine, else { param, message }.
function checkParams(params) {
  return pageLimit(params) ?? Lab.check_param(params) ?? null;
}

// Start a run of `params`; on bad input keep the current run and explain.
function start(params, { fromUser = false } = {}) {
  const clean = {};
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null) clean[k] = v;
  const err = checkParams(clean);
  if (err) {
    if (fromUser) markInvalid(err.param);
    throw new Error(err.message);
  }
  const lab = new Lab(clean);
  if (state.lab) state.lab.free();
  state.lab = lab;
  state.seeking = null;
  pacer.reset();
  state.params = lab.params();
  state.spread.reset();
  state.rows = [];
  if (time) time.reset();
  state.metrics = null;
  state.kind = lab.kind();
  state.compact = isCompact(lab); // one rumor on the compact engine (compact.js)
  markCompactControls(state.compact, $('trace'));
  document.body.dataset.engine = lab.engine();
  state.view = null;
  document.body.dataset.run = state.kind;
  document.body.dataset.scenario = state.params.scenario;
  $('chart-hint').textContent = state.kind === 'swim' ? 'SWIM spreads no rumor: the counters below measure failure detection' : state.kind === 'overlay' ? 'fraction of nodes that delivered each broadcast, by its age' : 'fraction of nodes that know each update, by its age';
  net.clearFlights();
  net.selected = -1;
  net.resetZoom();
  net.layout(lab.len());
  $('theory-name').textContent = lab.theory_name();
  fillForm(state.params);
  writeHash();
  renderTimeline();
  renderInspector(true);
  readFrame(true);
  updateCounters(true);
  state.lastChart = -1e9;
  if (state.connection) {
    try { lab.connect(state.connection.url, state.connection.opts); } catch (e) { state.connection = null; showBanner(String(e)); }
  }
  readKinds();
  renderReal();
  if (teach) { teach.onStart(); writeHash(); }
  return lab;
}

// ---------- real nodes ----------

/** Connect to the real node at `url`; throws with a reason. */
function connect(url, opts = {}) {
  const u = String(url || '').trim();
  if (location.protocol === 'https:' && u.startsWith('http://')) {
    throw new Error(`This page is served over https, so the browser will not let it call ${u} (mixed content). Serve the lab over http (scripts/demo.sh does) to connect to local nodes.`);
  }
  const o = {};
  for (const [k, v] of Object.entries(opts || {})) if (v !== '' && v !== undefined && v !== null) o[k] = v;
  state.lab.connect(u, o);
  state.connection = { url: u, opts: o };
  setSpeed(1);
  $('connect-url').value = u;
  readKinds();
  renderReal();
  updateCounters();
}

function disconnect() {
  state.connection = null;
  if (state.lab) state.lab.disconnect();
  readKinds();
  renderReal();
  updateCounters();
}

function readKinds() {
  if (!state.lab) return;
  state.kinds = state.lab.kinds();
  state.natives = state.lab.natives();
  const labels = new Map();
  for (const n of state.natives) {
    if (n.slot === null || n.slot === undefined) continue;
    const name = n.url.replace(/^https?:\/\//, '');
    const rtt = n.status === 'unreachable' ? 'unreachable' : n.rtt_ms !== null && n.rtt_ms !== undefined ? `${n.rtt_ms.toFixed(n.rtt_ms < 10 ? 1 : 0)} ms RTT` : 'connecting';
    labels.set(n.slot, [name, rtt]);
  }
  net.setKinds(state.kinds, labels);
  $('legend-real').hidden = !state.kinds.some((k) => k !== Kind.Virtual);
}

function renderReal() {
  const on = !!(state.lab && state.lab.connected());
  $('connect').textContent = on ? 'Add node' : 'Connect';
  $('disconnect').disabled = !on;
  for (const id of ['gateways', 'max-rps']) $(id).disabled = on;
  for (const b of document.querySelectorAll('#speed button')) b.disabled = on;
  const st = $('real-status');
  const natives = state.natives || [];
  if (on) {
    const ok = natives.filter((n) => n.status === 'reachable').length;
    const s = state.lab.bridge_stats();
    st.className = 'real-status on';
    st.textContent = `Connected: ${ok} of ${natives.length} real node${natives.length === 1 ? '' : 's'} answering. The network runs at wall-clock speed (real nodes cannot be fast-forwarded). ${s.requests.toLocaleString()} requests sent, at most ${state.connection?.opts?.max_rps ?? 10} per second.`;
  } else {
    st.className = 'real-status';
    st.textContent = natives.length ? 'Disconnected: the real nodes stay drawn, greyed out.' : 'Not connected. Start native nodes (gossip -p 7000), then connect: the page learns the others through GET /peers/.';
  }
  $('natives').innerHTML = natives.map((n) => {
    const rtt = n.rtt_ms === null || n.rtt_ms === undefined ? '' : `${n.rtt_ms.toFixed(n.rtt_ms < 10 ? 1 : 0)} ms`;
    const movie = n.status === 'unreachable' ? esc(n.last_error || 'not answering') : n.movie ? `${esc(n.movie)} <span class="rtt">v${n.version}</span>` : '';
    return `<li data-slot="${n.slot ?? -1}"><i class="st ${n.status}"></i><span class="u" title="${esc(n.url)}">${esc(n.url)}</span><span class="rtt">${rtt}</span><span class="m">${movie}</span></li>`;
  }).join('');
  for (const li of document.querySelectorAll('#natives li')) li.onclick = () => { const i = Number(li.dataset.slot); if (i >= 0) { net.selected = i; state.lastInspect = 0; renderInspector(); } };
}

function showNotices() {
  const list = state.lab.notices();
  if (!list.length) return;
  const ol = $('notices');
  for (const n of list) {
    const li = document.createElement('li');
    li.className = n.level;
    li.textContent = `${new Date().toLocaleTimeString()} ${n.text}`;
    ol.prepend(li);
  }
  while (ol.children.length > 30) ol.lastChild.remove();
}

// ---------- the frame loop ----------

function advanceBy(virtualMs, workMs = state.workMs, lab = state.lab) {
  // slow speeds move less than 1 ms a frame: carry the fraction over (the
  // compared run B follows A's clock in whole ms, so it carries nothing)
  let whole = virtualMs;
  if (virtualMs !== Infinity && lab === state.lab) { state.carry = (state.carry || 0) + virtualMs; whole = Math.floor(state.carry); state.carry -= whole; }
  return advanceTo(virtualMs === Infinity ? Infinity : lab.now() + whole, workMs, lab);
}

// Advance `lab` to virtual time `target` for at most about `workMs` of wall
// time; returns whether it got there.
function advanceTo(target, workMs = state.workMs, lab = state.lab) {
  const t0 = performance.now();
  let done = false;
  while (!done) {
    const c0 = performance.now();
    if (c0 - t0 >= workMs) break;
    done = lab.advance(target, state.chunk);
    // adapt the event budget so one call takes about CHUNK_MS (events cost more in big networks)
    const took = performance.now() - c0;
    if (!done && took < CHUNK_MS / 2) state.chunk = Math.min(1e6, state.chunk * 2);
    else if (took > CHUNK_MS * 2) state.chunk = Math.max(16, Math.floor(state.chunk / 2));
  }
  return done;
}

function readFrame(force) {
  const lab = state.lab;
  // (at max speed no message is drawn: the run's log of them keeps the
  // latest, up to its cap, and is read when the speed comes down, not copied
  // out each frame: 20,000 a frame took most of a 50-node run's drawing time)
  if (state.speed !== 'max' && state.seeking === null) net.addFlights(lab.flights(), lab.now(), 1 / state.speed, state.params.model, state.params.interval_ms);
  state.status = lab.status();
  state.groups = lab.groups();
  if (state.kind === 'swim') {
    state.suspects = lab.suspects();
    state.view = net.selected >= 0 ? lab.member_view(net.selected) : null;
  } else if (state.kind === 'overlay') {
    state.links = lab.links();
  }
  const wall = performance.now();
  if (force || wall - (state.lastSeries || 0) > 100) { state.lastSeries = wall; sampleSeries(); }
}

// Copy what the run logged since the last call (spread curves, counter rows).
function sampleSeries() {
  state.spread.sync(state.lab);
  const r = state.lab.metric_rows(state.rows.length);
  const w = METRIC_COLUMNS.length;
  for (let k = 0; k + w <= r.length; k += w) state.rows.push(Array.from(r.subarray ? r.subarray(k, k + w) : r.slice(k, k + w)));
}

// What the chart draws now: the spread view (spread.js), the theory line
// and why it may not apply; window.gossipLab.series() returns exactly this.
function chartData() {
  const lab = state.lab;
  sampleSeries();
  const view = state.spread.view(lab.now());
  let maxAge = 1000;
  // the compared run's curves (teach.js) share the axis
  const compare = teach ? teach.overlaySeries() : [];
  for (const u of [...view.curves, ...compare]) if (u.points.length) maxAge = Math.max(maxAge, u.points[u.points.length - 1][0]);
  if (view.band) maxAge = Math.max(maxAge, view.band.ages[view.band.ages.length - 1]);
  const th = theoryLine(lab, maxAge * 1.1);
  const theoryEnd = th.find(([, f]) => f >= 0.999);
  if (theoryEnd) maxAge = Math.max(maxAge, theoryEnd[0]);
  maxAge *= 1.05;
  return { ...view, theory: theoryLine(lab, maxAge), theory_note: theoryNote(), max_age: maxAge, compare };
}

// Why the mean-field curve does not describe this run, or '': it has every
// node pick any other uniformly, loss fixed for the whole run (it accounts
// for that loss) and nobody crashing, joining or cut off.
function theoryNote() {
  if (state.kind !== 'gossip') return '';
  const why = [];
  if (state.params.membership && state.params.membership !== 'full') why.push('nodes do not pick peers uniformly (bootstrap membership)');
  const kinds = new Set(state.faults.map((f) => f.text.split(' ')[0]));
  const any = (...k) => k.some((x) => kinds.has(x));
  if (any('partition', 'block')) why.push('partitions');
  if (any('loss')) why.push('loss changed during the run');
  if (any('crash', 'restart', 'restart-fresh', 'join', 'leave', 'crash-random')) why.push('nodes crash, join or leave');
  if (any('slow')) why.push('slow members');
  return why.length ? `theory does not apply: ${why.join(', ')}` : '';
}

// Go to virtual time `ms` (exact: back means the scenario replays); refused with real nodes.
function seekTo(ms) {
  const lab = state.lab;
  if (lab.connected()) { showBanner(`Cannot move time: ${WALL_CLOCK_WHY}`); return lab.now(); }
  state.playing = false;
  state.seeking = null;
  lab.seek(Math.max(0, Number(ms) || 0));
  sought();
  return lab.now();
}

// The run was rebuilt or moved in time: forget the curves, counter rows and
// messages copied from it.
function forgetCopies() {
  state.spread.reset();
  state.rows = [];
  net.clearFlights();
}

// After a seek: the views follow the run's new time.
function sought() {
  if (teach) teach.seek();
  forgetCopies();
  readFrame(true);
  updateCounters(true);
  renderInspector();
  state.lastChart = -1e9;
  pacer.reset();
}

// A seek asked on the page (the time slider, a fault's mark). Back, the run
// replays from its start: seconds at 1,000 nodes (BENCHMARKS.md, "seeking
// back"), which done at once froze the page. So the replay runs in the frame
// loop, a work budget a frame as at max speed (SEEK_AT_ONCE_MS first: a
// small network gets there before the next frame, as before; and between
// frames, as the run at max speed does: turbo), the slider
// at the time asked and the label saying how far the replay is; the page
// keeps answering, and a new position replaces the one on its way. The state
// reached is the same (the run is deterministic, and slices give what one
// call gives). `window.gossipLab.seek` stays synchronous.
const SEEK_AT_ONCE_MS = 50;
// (between frames a seek's slices are longer than a run's at max speed:
// the replay is what the user waits for, and the picture of the run on its
// way matters less; at 12 ms, as max speed, a seek took 40 % longer than
// done at once)
const SEEK_SLICE_MS = 40;
function seekFromPage(ms) {
  const lab = state.lab;
  if (lab.connected()) { showBanner(`Cannot move time: ${WALL_CLOCK_WHY}`); return; }
  ms = Math.max(0, Number(ms) || 0);
  state.playing = false;
  if (ms < lab.now()) {
    lab.seek(0); // (a rebuild: the replay starts from 0)
    forgetCopies();
  }
  state.seeking = ms;
  state.seekFrom = lab.now();
  seekStep(SEEK_AT_ONCE_MS);
  postTurbo();
}

// One slice of the page's seek; done, the views follow.
function seekStep(workMs) {
  const lab = state.lab;
  // (the replay's messages are not drawn: the run's log of them keeps the
  // latest, and those in flight at the time reached are drawn once there)
  if (!advanceTo(state.seeking, workMs) && !lab.stopped()) return;
  state.seeking = null;
  sought();
}

// Finish the page's seek now, if one is on its way (before anything that
// acts at the run's time: a step, a fault).
function settleSeek() {
  if (state.seeking !== null) seekStep(Infinity);
}

// At max speed the run does not wait for animation frames: between them it
// goes on in tasks of one work budget each, posted on a MessageChannel
// (run between frames, without setTimeout's clamp), and the frames still
// come and draw as the pacer lets them (pace.js). Waiting for the next
// frame after each budget left a quarter to a third of a big run's wall
// time idle: a 1,000,000-node round takes 20-30 ms, past the budget, so
// each round was followed by a wait for the next vsync. Not while real
// nodes take part (wall-clock time) or while a second run follows this
// one frame by frame (compare mode).
const turbo = { channel: new MessageChannel(), posted: false };
turbo.channel.port1.onmessage = () => {
  turbo.posted = false;
  if (!turboWanted()) return;
  const t0 = performance.now();
  if (state.seeking !== null) seekStep(SEEK_SLICE_MS);
  else advanceBy(Infinity, WORK_MS_MAX);
  state.prof.turbo += performance.now() - t0;
  postTurbo();
};
// (a seek on its way replays between frames too: it is what the user waits for)
function turboWanted() {
  const lab = state.lab;
  if (lab && state.seeking !== null) return true;
  return !!lab && state.speed === 'max' && state.playing && !lab.connected() && !lab.stopped() && !(teach && teach.comparing());
}
function postTurbo() {
  if (!turbo.posted && turboWanted()) {
    turbo.posted = true;
    turbo.channel.port2.postMessage(0);
  }
}

function frame(wall) {
  const lab = state.lab;
  const dt = Math.min(100, Math.max(0, wall - (state.lastWall || wall)));
  state.lastWall = wall;
  if (dt > 0) {
    state.period = state.period * 0.9 + dt * 0.1;
    // keep ~20 ms frames: give the simulation what rendering leaves
    if (state.period > 19) state.workMs = Math.max(WORK_MS_MIN, state.workMs * 0.9);
    else if (state.period < 17.5) state.workMs = Math.min(WORK_MS_MAX, state.workMs * 1.05);
  }
  const p = state.prof;
  let t = performance.now();
  const lap = (k) => { const u = performance.now(); p[k] += u - t; t = u; };
  const connected = lab && lab.connected();
  if (lab) lab.pump();
  // with real nodes: wall-clock time, frames dropped or not
  const realDt = Math.min(1000, Math.max(0, wall - (state.lastAdvanceWall || wall)));
  const want = connected ? realDt : state.speed === 'max' ? Infinity : dt * state.speed;
  if (lab && state.seeking !== null) {
    seekStep(state.workMs);
  } else if (lab && state.playing && !lab.stopped()) {
    const before = lab.now();
    advanceBy(want);
    if (want !== Infinity && want > 0) {
      // how fast virtual time really moves, smoothed (a big network may not keep up)
      const got = (lab.now() - before) / want;
      state.pace = state.pace === undefined ? got : state.pace * 0.95 + got * 0.05;
    }
  }
  // compare mode: B follows A's clock (or goes on alone once A stopped)
  if (lab && state.playing && teach) teach.follow(want, state.workMs);
  state.lastAdvanceWall = wall;
  lap('advance');
  // at max speed a big network is drawn a few times a second (pace.js)
  const seeking = state.seeking !== null;
  const fast = !!lab && ((state.speed === 'max' && state.playing && !connected && !lab.stopped()) || seeking);
  // paused or ended (and no second run or real nodes moving): a costly
  // picture is drawn again when what it shows changes (pace.js)
  const still = !!lab && !seeking && (!state.playing || lab.stopped()) && !connected && !(teach && teach.comparing());
  const key = still ? `${lab.now()} ${net.view.k} ${net.view.tx} ${net.view.ty} ${net.selected} ${net.hoverNode} ${net.w} ${net.h}` : '';
  if (lab && pacer.draws(wall, fast, still, key)) {
    const d0 = t;
    time.update(lab.now(), state.faults, connected, seeking ? { to: state.seeking, from: state.seekFrom } : null);
    readFrame(false);
    lap('read');
    const chartMs = draw(wall);
    lap('draw');
    if (wall - state.lastCounters > 200) { updateCounters(); state.lastCounters = wall; }
    if (wall - state.lastReal > 500 && (connected || state.natives.length)) { readKinds(); renderReal(); state.lastReal = wall; }
    if (connected || state.natives.length) showNotices();
    if (net.selected >= 0 && wall - state.lastInspect > 300) { renderInspector(); state.lastInspect = wall; }
    lap('ui');
    // (the chart's redraw, a few times a second whatever the pacer says, is
    // not the picture's cost: counted in, one redraw of a long run's chart
    // held a 50-node picture back for the next dozen frames at max speed)
    pacer.drawn(wall, t - d0 - chartMs);
    p.drawn++;
  }
  p.frames++;
  postTurbo();
  requestAnimationFrame(frame);
}

// Draw the network (and the chart when due); returns the ms the chart took.
function draw(wall) {
  const lab = state.lab;
  const single = state.params.scenario === 'single';
  net.draw(state.status, state.groups, lab.now(), wall, {
    single, origins: originsCount(), hideFlights: !state.showFlights || (state.speed === 'max' && state.playing),
    view: state.kind === 'swim' ? state.view : null, suspects: state.kind === 'swim' ? state.suspects : null,
    links: state.kind === 'overlay' ? state.links : null,
  });
  told.frame(lab, net, wall);
  // the chart moves slowly: a few redraws a second are enough
  if (wall - state.lastChart < 200 && wall >= state.lastChart) return 0;
  state.lastChart = wall;
  const t0 = performance.now();
  const d = chartData();
  chart.draw(d, d.theory, d.max_age, d.theory_note);
  if (d.compare.length) chart.overlay(d.compare);
  return performance.now() - t0;
}

function originsCount() {
  // how many origins have an update: the max staleness any node could have
  let n = 1;
  const m = state.metrics;
  if (m) n = Math.max(1, Math.min(m.updates, state.status.length));
  // (a single rumor draws no shades of staleness: colorOf ignores it)
  const maxStale = state.params.scenario === 'single' ? 0 : maxOf(state.status);
  return Math.max(n > 1 ? Math.min(n, state.status.length) : 1, maxStale - Status.Current);
}

// ---------- counters ----------

const fmtInt = (x) => (x === null || x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
const fmtBytes = (b) => (b < 1024 ? `${b} B` : b < 1048576 ? `${(b / 1024).toFixed(1)} KB` : b < 1073741824 ? `${(b / 1048576).toFixed(1)} MB` : `${(b / 1073741824).toFixed(2)} GB`);
const fmtMs = (x) => (x === null || x === undefined ? '—' : x < 1000 ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(2)} s`);


// The live nodes not up to date, as the status says it: a single rumor's
// are not informed yet (nothing to be behind on), a movies run's behind.
function lagging(k) {
  return `${k} ${state.params.scenario === 'single' ? 'not informed' : 'behind'}`;
}

function updateCounters(force) {
  const lab = state.lab;
  const m = lab.metrics();
  state.metrics = m;
  const { up, current } = upAndCurrent(state.status, Status.Down, Status.Current);
  const stop = lab.stopped();
  $('clock').textContent = `${(lab.now() / 1000).toFixed(1)} s`;
  const st = $('state');
  if (state.seeking !== null) {
    st.textContent = 'replaying'; // (a seek asked on the page, on its way: seekFromPage)
    st.className = 'pill warn';
  } else if (stop) {
    st.textContent = stop === 'converged' ? 'converged' : stop.replace('-', ' ');
    st.className = `pill ${stop === 'converged' ? 'ok' : 'warn'}`;
  } else if (state.playing && lab.connected()) {
    const ok = (state.natives || []).filter((n) => n.status === 'reachable').length;
    st.textContent = `live with ${ok} real node${ok === 1 ? '' : 's'} · wall clock` + (current === up ? ' · in sync' : ` · ${lagging(up - current)}`);
    st.className = 'pill run';
  } else if (state.playing) {
    const slow = state.speed !== 'max' && state.pace !== undefined && state.pace < 0.9 ? ` · ${(state.pace * state.speed).toFixed(2)}× real time` : '';
    st.textContent = (current === up ? 'running · in sync' : `running · ${lagging(up - current)}`) + slow;
    st.className = 'pill run';
  } else {
    st.textContent = 'paused';
    st.className = 'pill';
  }
  $('play').textContent = state.playing ? 'Pause' : 'Play';
  const cells = state.kind === 'swim' ? swimCells(m, up) : state.kind === 'overlay' ? overlayCells(m, up) : gossipCells(m, up, current, stop);
  $('counters').innerHTML = teach ? teach.countersHtml(cells) : cells.map(([k, v]) => `<div class="counter"><div class="k">${k}</div><div class="v">${v}</div></div>`).join('');
}

// A gossip run's measures (gossip sim --json's keys), as counters; also
// the compared run's (teach.js).
function gossipCells(m, up, current, stop, lab = state.lab) {
  return [
    ['up to date', `${fmtInt(current)} / ${fmtInt(up)}`],
    ['updates', fmtInt(m.updates)],
    ['messages', fmtInt(m.messages)],
    ['bytes', fmtBytes(m.bytes)],
    ['duplicates', fmtInt(m.duplicates)],
    ['msgs / update', m.updates ? m.messages_per_update.toFixed(1) : '—'],
    ['latency p50', fmtMs(m.latency_ms.median)],
    ['latency p99', fmtMs(m.latency_ms.p99)],
    ['latency max', fmtMs(m.latency_ms.max)],
    ...dropCells(m),
    ['lost updates', stop ? fmtInt(m.lost_updates) : '—'],
    ['events', fmtInt(m.events)],
    ...partitionCells(m, lab.scenario().faults, !!stop, lab.now()),
  ];
}

// SWIM's measures (gossip sim --json's keys), as counters.
function swimCells(m, up) {
  const d = m.detection;
  let suspected = 0;
  for (const c of state.suspects) if (c > 0) suspected++;
  return [
    ['members up', `${fmtInt(up)} / ${fmtInt(state.status.length)}`],
    ['suspected now', fmtInt(suspected)],
    ['crashes detected', `${fmtInt(d.crashed - d.undetected)} / ${fmtInt(d.crashed)}`],
    ['detection (first)', fmtMs(d.first_ms.mean)],
    ['detection (all)', fmtMs(d.full_ms.mean)],
    ['false positives', fmtInt(m.false_positives)],
    ['suspicions', fmtInt(m.suspicions)],
    ['refutations', fmtInt(m.refutations)],
    ['msgs / member / period', m.messages_per_member_per_period.toFixed(2)],
    ['messages', fmtInt(m.messages)],
    ...dropCells(m),
    ['events', fmtInt(m.events)],
  ];
}

// Broadcast and overlay measures (gossip sim --json's keys), as counters.
function overlayCells(m, up) {
  const t = treeStats();
  const stat = (s, k, digits = 2) => (s ? `${s.mean.toFixed(digits)}${s[k] !== undefined ? ` (${k} ${s[k].toFixed(digits)})` : ''}` : '—');
  return [
    ['nodes up', `${fmtInt(up)} / ${fmtInt(state.status.length)}`],
    ['eager links (tree)', `${fmtInt(t.eager_edges)}${t.tree ? ' · a tree' : t.spanning ? ' · spanning' : ''}`],
    ['broadcasts', fmtInt(m.updates)],
    ['rmr', stat(m.rmr, 'max')],
    ['ldh', stat(m.ldh, 'max', 1)],
    ['reliability', stat(m.reliability, 'min', 3)],
    ['payload msgs', fmtInt(m.payload_messages)],
    ['control msgs', fmtInt(m.control_messages)],
    ['membership msgs', fmtInt(m.membership_messages)],
    ...dropCells(m),
    ['latency p50', fmtMs(m.latency_ms.median)],
    ['events', fmtInt(m.events)],
  ];
}

// The eager links between up nodes: `{ nodes_up, eager_edges, lazy_edges,
// spanning, tree }` (undirected edges; spanning: they connect every up node;
// tree: spanning with nodes_up - 1 edges).
function treeStats() {
  const L = state.links, st = state.status, n = st.length;
  const parent = new Int32Array(n).map((_, i) => i);
  const find = (x) => { while (parent[x] !== x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; };
  const eager = new Set(), lazy = new Set();
  for (let k = 0; k + Link.Len <= L.length; k += Link.Len) {
    const a = L[k + Link.From], b = L[k + Link.To];
    const key = Math.min(a, b) * n + Math.max(a, b);
    if (L[k + Link.Eager]) { eager.add(key); lazy.delete(key); const ra = find(a), rb = find(b); if (ra !== rb) parent[ra] = rb; } else if (!eager.has(key)) lazy.add(key);
  }
  let up = 0, roots = 0;
  for (let i = 0; i < n; i++) if (st[i] !== Status.Down) { up++; if (find(i) === i) roots++; }
  const spanning = up > 0 && roots === 1;
  return { nodes_up: up, eager_edges: eager.size, lazy_edges: lazy.size, spanning, tree: spanning && eager.size === up - 1 };
}

// ---------- inspector ----------

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function renderInspector(reset) {
  const i = net.selected;
  if (i >= 0 || reset) state.flightInspected = false;
  else if (state.flightInspected) return; // a message in flight is shown (inspectFlight)
  const body = $('insp-body');
  if (state.compact && state.lab) { if (reset) net.selected = -1; renderCompactInspector(reset ? -1 : i, state.lab, state.status, $('insp-title'), body); return; }
  if (reset || i < 0 || !state.lab || i >= state.lab.len()) {
    if (reset) net.selected = -1;
    $('insp-title').textContent = 'click a node';
    body.className = 'insp-empty';
    body.textContent = "Click any node to see its favorite movie, its version, its peers, and what it thinks every node's favorite is.";
    return;
  }
  const d = state.lab.detail(i);
  if (state.kind !== 'gossip') { renderMemberInspector(i, d, body); return; }
  $('insp-title').textContent = d.kind === 'native' ? `#${i} · real node ${d.native ? d.native.url : d.name}` : d.kind === 'remote-virtual' ? `#${i} · ${d.name}` : `#${i}${d.gateway ? ' · gateway' : ''}`;
  body.className = '';
  const real = d.kind !== 'virtual';
  const peers = real ? 'its own (see its GET /peers/)' : d.peers ? (d.peers.length ? d.peers.slice(0, 40).join(', ') + (d.peers.length > 40 ? ` … (${d.peers.length})` : '') : 'none yet') : `any of ${d.members} members`;
  const staleRows = d.view.filter((r) => r.stale).length;
  const rows = d.view.map((r) => {
    const cls = r.origin === i ? 'self' : r.stale ? 'stale' : '';
    const latest = r.latest ? (r.latest[0] ? `${r.latest[0]}.${r.latest[1]}` : r.latest[1]) : '';
    const ver = r.epoch ? `${r.epoch}.${r.version}` : r.version;
    const unverified = (d.unverified || []).includes(r.origin) ? ' <span class="unverified" title="came unsigned from a real node (a course node that does not sign): nothing proves it is its origin\'s">unverified</span>' : '';
    const from = r.from !== undefined ? `#${r.from}${r.hop !== undefined ? ` (hop ${r.hop})` : ''}` : r.origin === i ? 'itself' : '—';
    return `<tr class="${cls}" data-origin="${r.origin}" data-ver="${r.epoch}.${r.version}" title="show who told whom for this update"><td>${r.origin}${unverified}</td><td class="movie" title="${esc(r.movie)}">${esc(r.movie)}</td><td class="ver">${ver}</td><td>${latest}</td><td>${fmtMs(r.learned_at)}</td><td class="from">${from}</td></tr>`;
  }).join('');
  body.innerHTML = `
    <div class="insp-grid">
      <div><div class="k">state</div><div class="v">${d.up ? (d.up_to_date ? 'up · up to date' : `up · behind on ${d.stale}`) : 'down'}</div></div>
      <div><div class="k">favorite</div><div class="v" title="${esc(d.movie ?? '')}">${esc(d.movie ?? '—')}</div></div>
      <div><div class="k">version</div><div class="v">${d.epoch ? `epoch ${d.epoch}, ` : ''}${d.version}</div></div>
      <div><div class="k">group</div><div class="v">${d.group}</div></div>
      <div><div class="k">duplicates</div><div class="v">${fmtInt(d.duplicates)}</div></div>
      <div><div class="k">dedup cache</div><div class="v">${fmtInt(d.seen)} ids</div></div>
    </div>
    <div class="insp-grid"><div style="grid-column: 1 / -1"><div class="k">peers</div><div class="v">${peers}</div></div></div>
    ${d.native ? `<div class="insp-grid">
      <div><div class="k">URL</div><div class="v"><a href="${esc(d.native.url)}/" target="_blank" rel="noopener">${esc(d.native.url)}</a></div></div>
      <div><div class="k">round trip</div><div class="v">${d.native.rtt_ms === null ? '—' : `${d.native.rtt_ms.toFixed(1)} ms (avg ${d.native.rtt_avg_ms.toFixed(1)})`}</div></div>
      <div><div class="k">status</div><div class="v">${esc(d.native.status)}${d.native.last_error ? ` · ${esc(d.native.last_error)}` : ''}</div></div>
      <div><div class="k">requests</div><div class="v">${fmtInt(d.native.requests)}</div></div>
      <div><div class="k">Ed25519 key</div><div class="v" title="${esc(d.native.key || '')}">${d.native.key ? `${esc(d.native.key.slice(0, 12))}…` : '—'}</div></div>
    </div>` : ''}
    <div class="insp-actions" ${real ? 'hidden' : ''}>
      <button data-act="crash" ${d.up ? '' : 'disabled'}>Crash</button>
      <button data-act="restart" ${d.up ? 'disabled' : ''}>Restart (keep state)</button>
      <button data-act="restart-fresh">Restart fresh</button>
      <button data-act="leave">Remove</button>
    </div>
    <div class="k" style="margin-bottom:6px;color:var(--muted);font-size:12px">${real ? 'As its last GET /state said: what' : 'What'} node ${i} thinks every node's favorite is (${d.view.length} origins${staleRows ? `, <span style="color:var(--warn)">${staleRows} behind</span>` : ''})</div>
    <div class="table-wrap"><table><thead><tr><th>origin</th><th>movie</th><th>version</th><th>latest</th><th>learned at</th><th>learned from</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  for (const b of body.querySelectorAll('button[data-act]')) b.onclick = () => applyFault(`${b.dataset.act}:${i}`);
  for (const tr of body.querySelectorAll('tr[data-origin]')) tr.onclick = () => told.select(state.lab, Number(tr.dataset.origin), tr.dataset.ver);
}

// A SWIM member (its view of the others, and who suspects it) or an
// overlay node (its neighbours, Plumtree's eager and lazy peers).
function renderMemberInspector(i, d, body) {
  $('insp-title').textContent = `#${i}`;
  body.className = '';
  const list = (xs) => (xs.length ? xs.slice(0, 40).join(', ') + (xs.length > 40 ? ` … (${xs.length})` : '') : 'none');
  let cells, more;
  if (state.kind === 'swim') {
    cells = [['state', d.up ? 'up' : 'down'], ['incarnation', d.incarnation], ['health', d.health], ['suspected by', fmtInt(d.suspected_by)], ['declared dead by', fmtInt(d.dead_to)], ['gossip queued', fmtInt(d.pending_gossip)]];
    more = `<div class="k insp-note">What member ${i} holds about the others (colouring the network): <span class="seen-alive">${fmtInt(d.alive)} alive</span> · <span class="seen-suspect">${fmtInt(d.suspect)} suspect</span> · <span class="seen-dead">${fmtInt(d.dead)} dead</span>${d.unknown ? ` · ${fmtInt(d.unknown)} unknown` : ''}</div>`;
  } else {
    cells = [['state', d.up ? 'up' : 'down'], ['neighbours', d.neighbours.length], ['eager (tree)', d.eager.length], ['lazy', d.lazy.length], ['awaiting', fmtInt(d.missing)]];
    more = `<div class="insp-grid"><div style="grid-column: 1 / -1"><div class="k">eager peers (tree links)</div><div class="v">${list(d.eager)}</div></div><div style="grid-column: 1 / -1"><div class="k">lazy peers</div><div class="v">${list(d.lazy)}</div></div></div>`;
  }
  body.innerHTML = `<div class="insp-grid">${cells.map(([k, v]) => `<div><div class="k">${k}</div><div class="v">${v}</div></div>`).join('')}</div>${more}
    <div class="insp-actions"><button data-act="crash" ${d.up ? '' : 'disabled'}>Crash</button>${state.kind === 'swim' ? `<button data-act="restart" ${d.up ? 'disabled' : ''}>Restart</button>` : ''}</div>`;
  for (const b of body.querySelectorAll('button[data-act]')) b.onclick = () => applyFault(`${b.dataset.act}:${i}`);
}

// ---------- faults ----------

// A message in flight, clicked: what it carries, and a button that drops
// it (recorded as `drop:FROM>TO` in the fault timeline). The inspector
// shows it until a node is selected again.
function inspectFlight(from, to) {
  state.playing = false; updateCounters();
  net.selected = -1; state.flightInspected = true;
  return renderFlight(state.lab, from, to, $('insp-title'), $('insp-body'), (spec) => {
    const at = state.lab.now() + 1;
    applyFault(spec);
    $('insp-body').insertAdjacentHTML('beforeend', `<div class="insp-note" id="dropped-note">Dropped: <code>${at}:${esc(spec)}</code> is in the fault timeline (and the link), so a replay loses the same messages.</div>`);
    const b = $('drop-flight'); if (b) b.disabled = true;
  });
}

function applyFault(spec) {
  try {
    const join = /^join:(\d+)$/.exec(spec);
    if (join && state.params.scenario !== 'single' && state.lab.len() + Number(join[1]) > PAGE_MAX_MOVIES_NODES) {
      throw new Error(`join: the ${state.params.scenario} scenario runs in the lab up to ${PAGE_MAX_MOVIES_NODES.toLocaleString()} nodes (every node keeps a view of every node)`);
    }
    if (addFault(spec)) showBanner('Forked: the faults after this moment were discarded, and the link now replays this new course.', 'info');
    else hideBanner();
  } catch (e) {
    showBanner(String(e));
    return;
  }
  writeHash();
  renderTimeline();
  renderInspector();
}

// Apply fault `spec` now (throws on bad input); true if it forked the run
// (it was sought back: the later faults are discarded, in Rust).
function addFault(spec) {
  settleSeek();
  const lab = state.lab;
  const now = lab.now();
  const past = state.faults.some((f) => f.at > now + 1); // as Live::has_future says
  // a join in a broadcast run rebuilds it (its values are keyed above every
  // node, joiners included: Live::add_fault), so the copies are renewed
  const rebuilt = state.kind === 'gossip' && state.params.scenario === 'broadcast' && /^\s*join\b/i.test(spec);
  lab.fault(spec);
  if (teach) teach.fault(spec);
  if (past) time.fork(lab.now());
  if (past || rebuilt) { forgetCopies(); readFrame(true); state.lastChart = -1e9; }
  writeHash();
  renderTimeline();
  return past;
}

function renderTimeline() {
  const faults = (state.lab.scenario().faults || '').split(',').filter(Boolean);
  state.faults = faults.map((f) => { const [t, ...rest] = f.split(':'); return { at: Number(t), text: rest.join(' ') }; });
  $('timeline').innerHTML = faults.length
    ? faults.map((f) => { const [t, ...rest] = f.split(':'); return `<li><b>${(Number(t) / 1000).toFixed(3)} s</b> ${esc(rest.join(' '))}</li>`; }).join('')
    : '<li style="list-style:none;margin-left:-18px">No faults yet. Click a node to crash or restart it.</li>';
}

// ---------- export ----------

function download(name, text, type) {
  downloadBlob(name, new Blob([text], { type }));
}

function downloadBlob(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url; a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Copy `text` (the link or the `gossip sim` command), saying what it
// replays: with real nodes taking part, only the virtual part.
async function copyText(text, what) {
  const reals = (state.natives || []).length;
  const note = replayNote(!!state.lab?.connected(), reals, what);
  state.lastCopy = { text, note };
  try { await navigator.clipboard.writeText(text); showBanner(note, 'info'); } catch { showBanner(`${note} ${text}`, 'info'); }
}

// The exported chart's title line: what ran, and where the run is.
// The chart as SVG text (chartsvg.js): what series() returns and the
// compared run's curves, laid out as the canvas lays them out.
function chartSvgText() {
  const d = chartData();
  const scene = chartScene(d, d.theory, d.max_age, d.theory_note, chart.w, chart.h, d.compare);
  const panel = getComputedStyle(document.documentElement).getPropertyValue('--panel').trim() || undefined;
  return chartSvg(scene, chartTitle(), panel);
}

function chartTitle() {
  const p = state.params;
  return `gossip lab · ${p.protocol} · ${p.scenario} · ${p.nodes} nodes · fanout ${p.fanout} · loss ${p.loss} · seed ${p.seed} · at ${(state.lab.now() / 1000).toFixed(1)} s`;
}

// The counters at fixed steps of virtual time, as the run recorded them
// (not at frame times), with the scenario in a header comment.
function metricsCsv() {
  sampleSeries();
  const pairs = Object.entries(state.lab.scenario()).map(([k, v]) => `${k}=${v}`).join(' ');
  const head = [
    `# gossip lab metrics, one row every ${state.lab.metric_step()} ms of virtual time (and at the end)`,
    `# scenario: ${pairs}`,
    `# replay: ${location.origin}${location.pathname}#${Object.entries(state.lab.scenario()).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`,
    METRIC_COLUMNS.join(','),
  ];
  return [...head, ...state.rows.map((r) => r.map((x) => (Number.isNaN(x) ? '' : x)).join(','))].join('\n') + '\n';
}


// ---------- wiring ----------

function setSpeed(s) {
  const v = s === 'max' ? 'max' : Number(s);
  if (v !== 'max' && !(v > 0)) throw new Error(`speed is a positive number or 'max', got ${s}`);
  state.speed = v;
  time.showSpeed(v);
}

function wire() {
  $('play').onclick = () => { state.playing = !state.playing; updateCounters(); };
  $('step').onclick = () => { state.playing = false; api.step(state.params.interval_ms); };
  $('restart').onclick = () => { try { start(state.lab.scenario()); } catch (e) { showBanner(String(e.message || e)); } };
  $('step-event').onclick = () => { state.playing = false; api.stepEvents(1); };
  form.elements.protocol.onchange = syncProtocolFields;
  for (const name of ['model', 'lifeguard', 'suspicion']) if (form.elements[name]) form.elements[name].onchange = syncProtocolFields;
  if (form.elements.membership) form.elements.membership.onchange = fitMembership;
  form.onsubmit = (ev) => {
    ev.preventDefault();
    try {
      settleSeek(); // (a fork happens at the time asked, not on the replay's way there)
      // sought back into the run: the new parameters replay from the start
      // with the faults up to now, and the run goes on from now (a fork)
      const lab = state.lab, now = lab.now();
      const fork = lab && !lab.connected() && now > 0 && now < time.horizon;
      const params = formParams();
      if (fork) params.faults = state.faults.filter((f) => f.at <= now + 1).map((f) => `${f.at}:${f.text.replace(/ /g, ':')}`).join(',');
      start(params, { fromUser: true });
      if (fork) { seekTo(now); writeHash(); showBanner(`Forked at ${(now / 1000).toFixed(3)} s: the new parameters replay from the start with the faults up to now; the later faults were discarded.`, 'info'); return; }
      hideBanner();
    } catch (e) {
      showBanner(String(e.message || e));
    }
  };
  $('reseed').onclick = () => {
    form.elements.seed.value = String(Math.floor(Math.random() * 2 ** 32));
    form.requestSubmit();
  };
  $('partition').onclick = () => applyFault(`partition:${$('groups').value}`);
  $('heal').onclick = () => applyFault('heal');
  $('join').onclick = () => applyFault(`join:${$('join-count').value}`);
  $('set-loss').onclick = () => applyFault(`loss:${$('loss-now').value}`);
  $('copy-link').onclick = async () => {
    writeHash();
    await copyText(location.href, 'link');
  };
  $('copy-cmd').onclick = () => copyText(simCommand(state.lab.scenario(), state.lab.engine()), 'command');
  $('chart-png').onclick = async () => {
    try { downloadBlob(exportName('chart', state.params, 'png'), await chartPng($('chart'), chartTitle())); } catch (e) { showBanner(String(e.message || e)); }
  };
  $('chart-svg').onclick = () => download(exportName('chart', state.params, 'svg'), chartSvgText(), 'image/svg+xml');
  $('csv').onclick = () => download(exportName('metrics', state.params, 'csv'), metricsCsv(), 'text/csv');
  $('trace').onclick = () => download(exportName('trace', state.params, 'json'), state.lab.trace_json(), 'application/json');
  $('banner-close').onclick = hideBanner;
  $('connect-form').onsubmit = (ev) => {
    ev.preventDefault();
    try {
      connect($('connect-url').value, { gateways: $('gateways').value, max_rps: $('max-rps').value });
      hideBanner();
    } catch (e) { showBanner(String(e.message || e)); }
  };
  $('disconnect').onclick = disconnect;

  const canvas = $('net');
  const pos = (ev) => { const r = canvas.getBoundingClientRect(); return [ev.clientX - r.left, ev.clientY - r.top]; };
  // zoom (wheel; a click on the aggregated cells), pan (drag), reset (double-click)
  let drag = null;
  canvas.onwheel = (ev) => {
    ev.preventDefault();
    const [x, y] = pos(ev);
    net.zoomAt(x, y, net.view.k * Math.exp(-ev.deltaY * (ev.deltaMode === 1 ? 0.05 : 0.0015)));
  };
  canvas.onmousedown = (ev) => { drag = { x: ev.clientX, y: ev.clientY, moved: false }; };
  window.addEventListener('mouseup', () => { setTimeout(() => { drag = null; }, 0); });
  canvas.ondblclick = () => net.resetZoom();
  canvas.onclick = (ev) => {
    if (drag && drag.moved) return;
    const [x, y] = pos(ev);
    const i = net.nodeAt(x, y);
    if (i < 0 && net.cellAt(x, y)) { net.zoomAt(x, y, net.detailZoom()); return; }
    const f = i < 0 && state.kind === 'gossip' ? flightAt(net, x, y, state.lab.now()) : null;
    if (f) { inspectFlight(f.from, f.to); return; }
    net.selected = i; state.lastInspect = 0; renderInspector();
  };
  canvas.onmousemove = (ev) => {
    if (drag && (ev.buttons & 1)) {
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (drag.moved || Math.abs(dx) + Math.abs(dy) > 4) { drag.moved = true; net.panBy(dx, dy); drag.x = ev.clientX; drag.y = ev.clientY; }
    }
    const [x, y] = pos(ev);
    const i = net.nodeAt(x, y);
    net.hoverNode = i;
    const tip = $('hover');
    const cell = i < 0 ? net.cellAt(x, y) : null;
    if ((i < 0 && !cell) || !state.lab) { tip.hidden = true; return; }
    tip.hidden = false;
    tip.style.left = `${x + 14}px`; tip.style.top = `${y + 10}px`;
    if (cell) {
      const behind = cell.nodes - cell.current - cell.down;
      tip.innerHTML = `<b>${cell.nodes} nodes here</b><br>${cell.current} up to date · ${behind} ${state.params.scenario === 'single' ? 'not informed' : 'behind'} · ${cell.down} down<br><span style="color:#8a97b3">click or scroll to zoom in</span>`;
      return;
    }
    if (state.compact) { tip.innerHTML = compactTip(i, state.status); return; }
    const n = state.lab.node(i);
    if (state.kind === 'swim') { tip.innerHTML = `<b>member ${i}</b> · ${n.up ? 'up' : 'down'} · incarnation ${n.incarnation}<br>suspected by ${n.suspected_by}, dead to ${n.dead_to}${state.view ? `<br>member ${net.selected} holds it ${['alive', 'suspect', 'dead', 'unknown'][state.view[i]]}` : ''}`; return; }
    if (state.kind === 'overlay') { tip.innerHTML = `<b>node ${i}</b> · ${n.up ? 'up' : 'down'}<br>${n.eager.length} eager (tree) · ${n.lazy.length} lazy peers`; return; }
    const who = n.kind === 'native' ? `real node ${esc(n.url || n.name)}${n.rtt_ms !== undefined && n.rtt_ms !== null ? ` · ${n.rtt_ms.toFixed(1)} ms RTT` : ''}` : n.kind === 'remote-virtual' ? esc(n.name) : `node ${i}${n.gateway ? ' (gateway)' : ''}`;
    tip.innerHTML = `<b>${who}</b> · ${n.up ? (n.up_to_date ? 'up to date' : `behind on ${n.stale}`) : 'down'}<br>${esc(n.movie ?? 'no favorite yet')}${n.version ? ` <span style="color:#8a97b3">v${n.epoch ? `${n.epoch}.` : ''}${n.version}</span>` : ''}`;
  };
  canvas.onmouseleave = () => { net.hoverNode = -1; $('hover').hidden = true; };
  window.addEventListener('resize', () => { net.resize(); chart.resize(); });
  window.addEventListener('keydown', (ev) => {
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) return;
    if (ev.key === ' ') { ev.preventDefault(); $('play').click(); } else if (ev.key === 's') $('step').click(); else if (ev.key === 'e') $('step-event').click(); else if (ev.key === 'r') $('restart').click();
    else if ((ev.key === '+' || ev.key === '=' || ev.key === '-') && !state.lab.connected()) time.nudge(ev.key === '-' ? -1 : 1);
  });
  window.addEventListener('hashchange', () => {
    const { params, error, extras } = paramsFromHash();
    if (error) { showBanner(error); return; }
    try { startLink(params, extras); } catch (e) { showBanner(`This link's scenario is not valid: ${e.message || e}`); }
  });
}

// ---------- automation: window.gossipLab ----------

const api = {
  /** `{ time_ms, converged, stop_reason, connected, nodes: [{ id, kind, name, up, movie, version, epoch, up_to_date, stale, gateway, url?, rtt_ms?, status? }] }` */
  snapshot: () => state.lab.snapshot(),
  /** Restart with `params` (gossip sim's flag names in snake_case). Throws on bad input and keeps the current run. */
  configure(params) { start(params); return state.lab.scenario(); },
  /** Advance virtual time by `ms`, synchronously; returns the new time. */
  step(ms) {
    settleSeek();
    const target = state.lab.now() + Math.max(0, Number(ms) || 0);
    for (let guard = 0; guard < 1e7 && !state.lab.advance(target, 1e6); guard++);
    if (teach) teach.step(Math.max(0, Number(ms) || 0));
    readFrame(true); updateCounters(true); renderInspector();
    return state.lab.now();
  },
  /** Advance by `k` events (a message delivered or a timer), synchronously; returns the new time. */
  stepEvents(k = 1) {
    settleSeek();
    const lab = state.lab;
    for (let i = 0; i < Math.max(1, Number(k) || 1) && !lab.stopped(); i++) lab.advance(Infinity, 1);
    readFrame(true); updateCounters(true); renderInspector();
    return lab.now();
  },
  /** The time a seek asked on the page (slider, fault mark) is replaying to, or null when none is on its way. */
  seeking: () => state.seeking,
  /** Go to virtual time `ms` exactly (back: the scenario replays); returns the time. Throws while real nodes take part. */
  seek(ms) {
    if (state.lab.connected()) throw new Error(`seek: ${WALL_CLOCK_WHY}`);
    return seekTo(ms);
  },
  /** What the convergence chart draws: `{ now, updates, curves, band, theory, theory_note, max_age, compare }` (see docs/lab.md). */
  series: () => chartData(),
  /** The speed: virtual ms per wall ms, or 'max'. */
  speed: () => state.speed,
  /** The metrics CSV's file name. */
  csvName: () => exportName('metrics', state.params, 'csv'),
  /** Run to the end synchronously; returns `gossip sim --json`'s report. */
  runToEnd() {
    settleSeek();
    for (let guard = 0; guard < 1e7 && !state.lab.stopped(); guard++) state.lab.advance(Infinity, 1e6);
    if (teach) teach.runToEnd();
    readFrame(true); updateCounters(true);
    return JSON.parse(state.lab.report_json());
  },
  /** The report as `gossip sim --json` prints it (JSON text). */
  reportJson: () => state.lab.report_json(),
  metrics: () => state.lab.metrics(),
  scenario: () => state.lab.scenario(),
  params: () => state.lab.params(),
  /** The parameter table: `{ params, protocols, presets }` (what the form is built from). */
  table: () => state.table,
  /** Apply a fault now: `crash:3`, `partition:2`, `heal`, `join:5`, ... */
  fault(spec) { addFault(spec); return state.lab.now(); },
  pause() { state.playing = false; updateCounters(); },
  play() { state.playing = true; updateCounters(); },
  setSpeed,
  /** Show messages in flight (on by default). */
  showMessages(on) { state.showFlights = !!on; },
  detail: (i) => state.lab.detail(i),
  /** What this run is: `gossip`, `swim` or `overlay`. */
  kind: () => state.kind,
  /** The engine holding the nodes: `compact` (one rumor past 20,000 nodes: no per-node details) or `full`. */
  engine: () => state.lab.engine(),
  /** Select node `i` (as a click does; -1: none). */
  select(i) { net.selected = Number(i); state.lastInspect = 0; readFrame(true); renderInspector(); },
  /** SWIM: what member `i` holds about every node: `{ alive, suspect, dead, unknown }`, lists of node indices. */
  memberView(i) {
    const v = state.lab.member_view(i);
    const out = { alive: [], suspect: [], dead: [], unknown: [] };
    const names = { [Seen.Alive]: 'alive', [Seen.Suspect]: 'suspect', [Seen.Dead]: 'dead', [Seen.Unknown]: 'unknown' };
    v.forEach((c, j) => out[names[c]].push(j));
    return out;
  },
  /** SWIM: how many live members suspect each node, by index. */
  suspects: () => [...state.lab.suspects()],
  /** Overlays: `{ nodes_up, eager_edges, lazy_edges, spanning, tree }` of Plumtree's eager links between up nodes, and `edges`: the eager links `[a, b]` (a < b). */
  tree() {
    state.links = state.lab.links(); state.status = state.lab.status();
    const L = state.links, edges = new Map();
    for (let k = 0; k + Link.Len <= L.length; k += Link.Len) if (L[k + Link.Eager]) { const a = Math.min(L[k], L[k + 1]), b = Math.max(L[k], L[k + 1]); edges.set(`${a}-${b}`, [a, b]); }
    return { ...treeStats(), edges: [...edges.values()] };
  },
  metricsCsv,
  traceJson: () => state.lab.trace_json(),
  /** The `gossip sim` command that runs this scenario (faults applied so far included); with `--json` it prints the page's report. */
  simCommand: () => simCommand(state.lab.scenario(), state.lab.engine()),
  /** Copy the link (`'link'`) or the command (`'command'`) as the buttons do; returns `{ text, note }`, note: what it replays. */
  async copy(what) { await copyText(what === 'command' ? simCommand(state.lab.scenario(), state.lab.engine()) : (writeHash(), location.href), what); return state.lastCopy; },
  /** The chart as the Chart PNG button saves it: a `data:image/png` URL. */
  async chartPng() { const b = await chartPng($('chart'), chartTitle()); return new Promise((r) => { const f = new FileReader(); f.onload = () => r(f.result); f.readAsDataURL(b); }); },
  /** The chart as the Chart SVG button saves it: SVG text, one `<path>` per curve in data coordinates (see docs/lab.md). */
  chartSvg: () => chartSvgText(),
  /** Every delivery of `origin`'s update `version` (`"epoch.counter"`, a counter for epoch 0, or `{ epoch, counter }`) so far: `[{ from, to, t_ms, hop, duplicate }]`. Throws if the run keeps none for it. */
  dissemination: (origin, version) => dissemination(state.lab, origin, version),
  /** Select an update (as a click on an inspector row does; `null`: none): its tree is drawn on the network. Returns its deliveries. */
  selectUpdate: (origin, version) => told.select(state.lab, origin, version),
  /** The messages from → to in flight now: `[{ from, to, arrives, kind, bytes, updates: [{ origin, epoch, counter, ttl }] }]`. */
  inFlight: (from, to) => inFlight(state.lab, from, to),
  /** Inspect the messages from → to in flight (as a click on one does); returns them. */
  inspectFlight,
  /** Every message in flight now, as `[from, to]` pairs (what can be inspected or dropped). */
  flightsNow() { const now = state.lab.now(); return net.flights.filter((f) => !f.lost && f.t1 > now && f.t0 <= now).map((f) => [f.from, f.to]); },
  get playing() { return state.playing; },
  /** Join real nodes: `connect('http://127.0.0.1:7000', { gateways: 3, max_rps: 10, allow_unsigned: true })` (allow_unsigned: take unsigned updates of origins never seen signed, as native nodes do by default; false requires seals). Throws on a bad URL. */
  connect(url, opts) { connect(url, opts); return state.lab.natives(); },
  /** Stop talking to real nodes. */
  disconnect,
  /** The real nodes: `[{ url, name, slot, status, rtt_ms, movie, version, epoch, failures, last_error, requests, key }]`. */
  natives: () => state.lab.natives(),
  /** Requests to real nodes so far, and their outcomes. */
  bridgeStats: () => state.lab.bridge_stats(),
  /** Zoom the network view to `k` (1: whole network) around canvas point (x, y), default its centre; returns `{ k, lod }` (lod: nodes aggregated into cells). */
  zoom(k, x, y) { net.zoomAt(x ?? net.w / 2, y ?? net.h / 2, Number(k) || 1); return { k: net.view.k, lod: net.lod }; },
  /** The network view: `{ k, lod }` (zoom, and whether nodes are aggregated into cells). */
  view: () => ({ k: net.view.k, lod: net.lod }),
  /** How many real nodes (and other pages' nodes) the real-node column folds into its last "+ N more" row: 0 when every one has a row. */
  foldedReal: () => net.foldedCount(),
  /** The aggregated cell at canvas point (x, y): `{ nodes, current, down }`, or null. */
  cellAt: (x, y) => net.cellAt(x, y),
  /** Frames (`frames`; `drawn`: those that drew, fewer at max speed in a big network: pace.js) and the milliseconds spent per part since the last call. */
  frameStats() { const p = state.prof; state.prof = freshProf(); return p; },
};

async function main() {
  net = new NetView($('net'));
  chart = new Chart($('chart'));
  time = new TimeControl({ seek: seekFromPage, setSpeed, speed: () => state.speed });
  try {
    await init();
  } catch (e) {
    showBanner(`The WebAssembly module did not load (${e.message || e}). Build it with: wasm-pack build --target web --out-dir www/pkg`);
    return;
  }
  buildForm();
  wire();
  teach = installTeach({ state, api, advanceBy, sampleSeries, gossipCells, formParams, writeHash, showBanner });
  Object.assign(api, teach.api);
  const { params, error, extras } = paramsFromHash();
  if (error) showBanner(`${error} Showing the default scenario instead.`);
  try {
    startLink(params, extras);
  } catch (e) {
    showBanner(`This link's scenario is not valid: ${e.message || e}. Showing the default scenario instead.`);
    start({ ...PAGE_DEFAULTS });
  }
  installLayout({ net, api, renderInspector });
  window.gossipLab = api;
  document.documentElement.dataset.ready = '1';
  requestAnimationFrame(frame);
  // any input draws the next frame, whatever a still picture costs (pace.js)
  for (const ev of ['pointerdown', 'pointermove', 'wheel', 'keydown', 'input', 'change', 'resize']) window.addEventListener(ev, () => pacer.reset(), { passive: true, capture: true });
  warmCompact(Lab, () => state.lab);
  await autoConnect();
}

// `?connect=URL` connects on load; without it, a page served by the demo
// (`gossip cluster --www`) finds its nodes in lab-config.json. `?connect=`
// (empty) stays offline.
async function autoConnect() {
  const q = new URLSearchParams(location.search);
  let url = q.get('connect');
  if (url === null) {
    try {
      const r = await fetch('lab-config.json', { cache: 'no-store' });
      if (r.ok) url = (await r.json()).connect || null;
    } catch { /* static hosting: no config, stay offline */ }
  }
  if (!url) return;
  try { connect(url); } catch (e) { showBanner(`Could not connect to ${url}: ${e.message || e}`); }
}

main();
