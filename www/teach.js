// The page as a teacher: explanations, the help panel, guided lessons and
// compare mode's controls. app.js calls installTeach() once and then the
// few hooks it returns (the link's extra pairs, B following A, the
// counters' two columns, the chart's overlay); everything else lives here,
// so the frame loop stays app.js's.
//
// - Explanations: every control gets a one-sentence `title` (the form's
//   fields from the parameter table's help, the rest from CONTROLS below),
//   every counter one from COUNTERS; the help panel lists them all, the
//   protocols with the registry's summaries (Lab.table(), never re-typed
//   here), the lessons and the docs pages.
// - Lessons (lessons.js): `#lesson=ID` loads a lesson's scenario (and its
//   compared run); a panel beside the run shows its steps, the current one
//   marked as virtual time passes, and "Next" steps the run to the next.
// - Compare (compare.js): `#...&compare=fanout:3` or "Run beside" (the
//   form's values as B) or gossipLab.compare(params).

import { Compare, parseCompare } from './compare.js';
import { LESSONS, lessonById, compareText } from './lessons.js';

/** Controls that are not parameters of the run, by id (or `speed-X` for a speed button). */
const CONTROLS = {
  play: 'Play or pause the run (key: space).',
  step: 'Pause and advance the run by one gossip interval of virtual time (key: s).',
  restart: 'Start the same scenario again from time 0, faults and all (key: r).',
  'speed-1': 'Virtual time runs as fast as wall-clock time: 1 s of the run takes 1 s.',
  'speed-10': 'Virtual time runs ten times faster than wall-clock time.',
  'speed-max': 'Run as fast as the browser can, without drawing messages in flight.',
  'submit-params': 'Start a new run with the values in the form (the link follows).',
  reseed: 'Pick a random seed and restart: a different but equally reproducible run.',
  groups: 'How many groups the next partition splits the nodes into.',
  partition: 'Split the nodes into that many groups now: messages between groups are cut until Heal.',
  heal: 'Lift every partition now: messages cross between the groups again.',
  'join-count': 'How many new nodes the Join button adds.',
  join: 'Add that many new nodes now; they learn the state by gossip.',
  'loss-now': 'The probability, 0..1, that a message is lost, to set with the button beside it.',
  'set-loss': 'Change the message-loss probability of every link from now on.',
  'copy-link': 'Copy a link that holds every parameter and every fault applied: it replays this exact run.',
  csv: 'Download the counters over time as CSV.',
  trace: 'Download the event trace (what each node originated and learned, and when) as JSON.',
  'connect-url': 'The URL of a native gossip node (gossip -p 7000) to join this page\'s network.',
  connect: 'Join the real node at the URL, and the nodes it knows, to the simulated network.',
  disconnect: 'Stop talking to the real nodes; they stay drawn, greyed out.',
  gateways: 'How many virtual nodes exchange with real nodes.',
  'max-rps': 'The most requests per second the page sends to real nodes, all together.',
  'banner-close': 'Dismiss this message.',
  'help-btn': 'Open or close the help: what every control and counter means, the protocols, lessons and docs (key: ?).',
  'cmp-form': 'Run the form\'s values as a second run (B) beside this one, on the same seed and fault timeline; its curves are drawn in orange, its counters beside these.',
  'cmp-stop': 'Stop the compared run (B).',
  'lesson-next': 'Advance the run to the lesson\'s next step and pause.',
  'lesson-close': 'Leave the lesson; the run goes on.',
  'help-close': 'Close the help.',
};

/** What the inspector's buttons do, by their data-act. */
const ACTIONS = {
  crash: 'Crash this node now: it stops, and so does what it sends.',
  restart: 'Restart this node with the state it had when it crashed.',
  'restart-fresh': 'Restart this node without its state: a new epoch, so its new versions still win.',
  leave: 'Remove this node from the network for good.',
};

/** Every counter, by its label. */
const COUNTERS = {
  'up to date': 'Live nodes holding every origin\'s latest update, of all live nodes.',
  updates: 'Updates made so far (new favorites, values or rumors).',
  messages: 'Messages sent so far, of every kind.',
  bytes: 'Bytes of all messages sent so far, as the wire format encodes them.',
  duplicates: 'Updates received by a node that already held them: the price of redundancy.',
  'msgs / update': 'Messages sent per update made.',
  'latency p50': 'Half of the deliveries reached their node within this time after the update was made.',
  'latency p99': '99 % of the deliveries reached their node within this time after the update was made.',
  'latency max': 'The slowest delivery of an update to a node.',
  'msgs lost': 'Messages lost to random loss (the loss parameter or a loss fault).',
  'cut by partition': 'Messages dropped because sender and receiver were on different sides of a partition.',
  'lost updates': 'Updates that never reached every live node by the end of the run.',
  events: 'Simulation events processed (deliveries and timers): the work the run cost.',
  'members up': 'Members running, of all members.',
  'suspected now': 'Members that at least one live member suspects right now.',
  'crashes detected': 'Crashed members some live member declared failed, of those that crashed.',
  'detection (first)': 'Mean time from a crash to the first member declaring it failed.',
  'detection (all)': 'Mean time from a crash to every live member having declared it failed.',
  'false positives': 'Times a member that was up was declared failed.',
  suspicions: 'Times a member started suspecting another.',
  refutations: 'Times a suspected member refuted the suspicion by raising its incarnation.',
  'msgs / member / period': 'Messages each member sends per protocol period: SWIM keeps it constant, whatever n.',
  'nodes up': 'Nodes running, of all nodes.',
  'eager links (tree)': 'Plumtree\'s eager links between live nodes: "a tree" when they span every node with n - 1 links.',
  broadcasts: 'Broadcasts made so far.',
  rmr: 'Relative message redundancy: payload messages per delivery beyond the first, (m / (n - 1)) - 1; 0 on a perfect tree.',
  ldh: 'Last delivery hop: the hops the farthest node was from the sender.',
  reliability: 'Fraction of live nodes that delivered each broadcast (1: all).',
  'payload msgs': 'Messages that carried a broadcast\'s payload.',
  'control msgs': 'Plumtree\'s IHAVE, GRAFT and PRUNE messages.',
  'membership msgs': 'The overlay\'s own messages (HyParView joins, shuffles, keep-alives).',
};

/** The docs pages the help panel links, under the docs base. */
const DOCS = [
  ['lab.md', 'The browser lab: every control, the JavaScript API, mixing with real nodes'],
  ['sim.md', 'gossip sim: flags, the JSON report\'s keys, the two time models'],
  ['sweep.md', 'gossip sweep: many runs over parameter grids'],
  ['check.md', 'gossip check: properties checked over random fault schedules'],
  ['node.md', 'The native node: flags, HTTP API, TLS'],
  ['protocols.md', 'The protocols: rules, parameters, the registry'],
  ['test-node.md', 'Testing a course node against the reference'],
];
// docs/ sits next to www/ in the repository: served from the repository's
// root (python3 -m http.server, GitHub Pages of the whole repo) the pages
// are at ../docs/. lab-config.json may name another base (`"docs": URL`).
const DOCS_BASE = '../docs/';

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmtT = (ms) => (ms < 1000 ? `${ms} ms` : `${+(ms / 1000).toFixed(3)} s`);

/**
 * ctx: app.js's `{ state, api, advanceBy, sampleSeries, gossipCells, formParams, start, writeHash, showBanner }`.
 * Returns the hooks app.js calls.
 */
export function installTeach(ctx) {
  const $ = (id) => document.getElementById(id);
  const compare = new Compare(ctx);
  let lesson = null; // the open lesson
  let docsBase = DOCS_BASE;

  // ---------- DOM: help button, compare controls, lesson card, help panel ----------
  const helpBtn = document.createElement('button');
  helpBtn.id = 'help-btn';
  helpBtn.textContent = 'Help';
  document.querySelector('.bar .status')?.prepend(helpBtn);

  const formRow = document.querySelector('#params .row');
  const cmpBtn = document.createElement('button');
  cmpBtn.type = 'button';
  cmpBtn.id = 'cmp-form';
  cmpBtn.textContent = 'Run beside (B)';
  formRow?.append(cmpBtn);

  const cmpBar = document.createElement('div');
  cmpBar.id = 'cmp-bar';
  cmpBar.className = 'cmp-bar';
  cmpBar.hidden = true;
  cmpBar.innerHTML = '<span><i class="line upd"></i>A: this run</span><span><i class="line cmp"></i>B: <b id="cmp-label"></b></span><button type="button" id="cmp-stop">Stop B</button>';
  document.querySelector('.charts .chart-head')?.after(cmpBar);

  const card = document.createElement('section');
  card.className = 'card lesson';
  card.id = 'lesson';
  card.hidden = true;
  document.querySelector('aside.side')?.prepend(card);

  const panel = document.createElement('aside');
  panel.id = 'help';
  panel.className = 'help-panel';
  panel.hidden = true;
  document.body.append(panel);

  // ---------- explanations ----------
  function explain() {
    for (const el of document.querySelectorAll('button, input, select')) {
      if (el.title) continue;
      const label = el.closest('label');
      if (label && label.title) continue;
      const key = el.dataset.speed ? `speed-${el.dataset.speed}` : el.id || (el.type === 'submit' && el.form ? `submit-${el.form.id}` : '');
      const text = CONTROLS[key] || (el.dataset.act && ACTIONS[el.dataset.act]);
      if (text) el.title = text;
    }
  }
  explain();
  // the inspector redraws its buttons: explain them as they come
  const insp = $('insp-body');
  if (insp) new MutationObserver(explain).observe(insp, { childList: true });

  function renderHelp() {
    const table = ctx.state.table;
    // every field of the form, with its choices' meanings (the parameter table's help)
    const form = $('params');
    const fields = table.params.filter((p) => form.elements[p.name]).map((p) => [p.label, p.help + (p.choices ? ` ${p.choices.map((c) => `${c.value}: ${c.help}.`).join(' ')}` : '')]);
    const others = Object.entries(CONTROLS).filter(([id]) => id.startsWith('speed-') || $(id)).map(([id, t]) => [id.startsWith('speed-') ? `${id.slice(6)}${id === 'speed-max' ? '' : '×'}` : ($(id)?.textContent?.trim() || $(id)?.closest('label')?.firstChild?.textContent?.trim() || id), t]);
    const dl = (rows) => `<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
    panel.innerHTML = `
      <div class="help-head"><h2>Help</h2><button type="button" id="help-close" title="${esc(CONTROLS['help-close'])}">×</button></div>
      <p>Each dot is a simulated node running the protocol you chose; the chart shows, for each update, the fraction of nodes that know it against its age. Same seed, same run: the link replays it, and <code>gossip sim</code> with the same flags prints the same report.</p>
      <h3>Lessons</h3>
      <ol class="help-lessons">${LESSONS.map((l) => `<li><a href="#lesson=${l.id}">${esc(l.title)}</a></li>`).join('')}</ol>
      <h3>Protocols (from the registry)</h3>
      ${dl(table.protocols.map((p) => [p.name, p.summary]))}
      <h3>Scenario parameters</h3>
      ${dl(fields)}
      <h3>Other controls</h3>
      ${dl(others)}
      <h3>Counters</h3>
      ${dl(Object.entries(COUNTERS))}
      <h3>Compare</h3>
      <p>"Run beside (B)" runs the form's values as a second run on the same seed and fault timeline; its curves are orange and its counters stand beside this run's. The link holds it as <code>compare=name:value,...</code>; <code>gossipLab.compare({ fanout: 3 })</code> does the same.</p>
      <h3>Documentation</h3>
      <ul class="help-docs">${DOCS.map(([f, t]) => `<li><a href="${esc(docsBase + f)}" target="_blank" rel="noopener">docs/${f}</a>: ${esc(t)}</li>`).join('')}</ul>
      <p class="hint">The docs are linked at <code>${esc(docsBase)}</code>: the repository's <code>docs/</code> next to <code>www/</code> (serve the repository's root, or set <code>"docs"</code> in lab-config.json).</p>`;
    $('help-close').onclick = () => toggleHelp(false);
  }

  function toggleHelp(on = panel.hidden) {
    if (on) renderHelp();
    panel.hidden = !on;
  }
  helpBtn.onclick = () => toggleHelp();
  window.addEventListener('keydown', (ev) => {
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) return;
    if (ev.key === '?') toggleHelp();
    else if (ev.key === 'Escape' && !panel.hidden) toggleHelp(false);
  });
  fetch('lab-config.json', { cache: 'no-store' }).then((r) => (r.ok ? r.json() : null)).then((c) => { if (c && typeof c.docs === 'string' && c.docs) docsBase = c.docs.endsWith('/') ? c.docs : `${c.docs}/`; }).catch(() => {});

  // ---------- compare ----------
  function showCompare() {
    cmpBar.hidden = !compare.on;
    document.body.classList.toggle('comparing', compare.on);
    if (compare.on) $('cmp-label').textContent = compare.label();
  }

  function startCompare(spec) {
    const r = compare.start(spec);
    showCompare();
    ctx.writeHash();
    return r;
  }

  // the form's values that differ from the running scenario: B's changes
  cmpBtn.onclick = () => {
    const a = ctx.state.lab.scenario();
    const f = ctx.formParams();
    delete f.preset;
    const defaults = new Map(ctx.state.table.params.map((p) => [p.name, p.default]));
    const spec = {};
    for (const k of new Set([...Object.keys(a), ...Object.keys(f)])) {
      if (k === 'faults' || k === 'seed' || !defaults.has(k)) continue;
      // a field the form hides does not apply to B's protocol: A's value is left out of B (compare.js says so)
      if (ctx.state.lab && document.querySelector(`#params [name="${k}"]`)?.closest('label.off')) continue;
      const va = a[k] ?? String(defaults.get(k) ?? '');
      const vf = f[k] ?? String(defaults.get(k) ?? '');
      if (va !== vf && !(k in f && f[k] === '' && !(k in a))) spec[k] = vf;
    }
    if (!Object.keys(spec).length) { ctx.showBanner('Change a value in the form first: B runs the form\'s values beside this run.', 'info'); return; }
    try { startCompare(spec); } catch (e) { ctx.showBanner(String(e.message || e)); }
  };
  cmpBar.querySelector('#cmp-stop').onclick = () => startCompare(null);

  // ---------- lessons ----------
  function openLesson(l) {
    lesson = l;
    card.hidden = !l;
    // a lesson runs no real nodes: their card makes room for the lesson's
    document.body.classList.toggle('lesson-open', !!l);
    if (!l) return;
    card.innerHTML = `
      <h2>Lesson <span class="hint">${esc(l.title)}</span></h2>
      <p class="lesson-summary">${esc(l.summary)}</p>
      ${l.compare ? `<p class="lesson-cmp">B, beside it: <b>${esc(compareText(l.compare).replace(/:/g, ' ').replace(/,/g, ', '))}</b> (orange).</p>` : ''}
      <ol class="lesson-steps">${l.steps.map((s, k) => `<li data-k="${k}"><b>${fmtT(s.at_ms)}</b> ${esc(s.text)}</li>`).join('')}</ol>
      <p class="lesson-outcome"><b>What the run shows:</b> ${esc(l.outcome)}</p>
      <div class="row"><button type="button" id="lesson-next" class="primary">Next step</button><button type="button" id="lesson-close">Close lesson</button></div>`;
    $('lesson-next').title = CONTROLS['lesson-next'];
    $('lesson-close').title = CONTROLS['lesson-close'];
    $('lesson-next').onclick = nextStep;
    $('lesson-close').onclick = () => { openLesson(null); ctx.writeHash(); };
    markStep();
  }

  function currentStep() {
    if (!lesson || !ctx.state.lab) return -1;
    const now = ctx.state.lab.now();
    let k = -1;
    lesson.steps.forEach((s, j) => { if (s.at_ms <= now) k = j; });
    return k;
  }

  function markStep() {
    if (!lesson) return;
    const k = currentStep();
    for (const li of card.querySelectorAll('.lesson-steps li')) {
      const j = Number(li.dataset.k);
      li.classList.toggle('now', j === k);
      li.classList.toggle('past', j < k);
    }
    const next = $('lesson-next');
    if (next) next.disabled = k >= lesson.steps.length - 1;
  }

  /** Step the run to the lesson's next step and pause; returns the new time. */
  function nextStep() {
    if (!lesson) return null;
    const k = currentStep();
    const s = lesson.steps[k + 1];
    if (!s) return ctx.state.lab.now();
    ctx.api.pause();
    const t = ctx.api.step(Math.max(0, s.at_ms - ctx.state.lab.now()));
    markStep();
    return t;
  }
  setInterval(markStep, 250);

  // ---------- hooks for app.js ----------
  return {
    /** The link's extra keys, taken out before the run's parameters are read. */
    extraKeys: ['compare', 'lesson'],

    /** The parameters to start for a link: a lesson alone in the link brings its own. */
    paramsFor(params, extras) {
      const l = extras.lesson && lessonById(extras.lesson);
      if (extras.lesson && !l) throw new Error(`lesson: no lesson "${extras.lesson}" (there are ${LESSONS.map((x) => x.id).join(', ')})`);
      if (l && !Object.keys(params).length) return { ...l.params };
      return params;
    },

    /** After a link's run started: its lesson panel and its compared run (the lesson's when the link names none). */
    afterLink(extras) {
      const l = extras.lesson ? lessonById(extras.lesson) : null;
      if (l && l !== lesson) ctx.api.setSpeed(l.speed ?? 1);
      openLesson(l);
      const spec = extras.compare !== undefined ? extras.compare : l?.compare ?? null;
      try { startCompare(spec || null); } catch (e) { compare.stop(); showCompare(); ctx.showBanner(String(e.message || e)); }
    },

    /** The pairs the link carries besides the run's: `compare=...`, `lesson=...`. */
    hashPairs() {
      const out = [];
      if (compare.on) out.push(['compare', compareText(compare.spec)]);
      if (lesson) out.push(['lesson', lesson.id]);
      return out;
    },

    /** A restarted: B restarts over it (or stops, saying why). */
    onStart() {
      if (!compare.spec) return;
      try { compare.restart(); } catch (e) { compare.stop(); ctx.showBanner(`Compare stopped: ${e.message || e}`); }
      showCompare();
    },
    follow(want, workMs) {
      if (compare.on && ctx.state.lab.connected()) {
        compare.stop();
        showCompare();
        ctx.writeHash();
        ctx.showBanner('Compare stopped: a run with real nodes cannot be replayed, so it cannot be run twice.', 'info');
        return;
      }
      compare.follow(want, workMs);
    },
    step: (ms) => compare.step(ms),
    /** Whether a second run (B) follows this one. */
    comparing: () => compare.on,
    runToEnd: () => compare.runToEnd(),
    fault: (spec) => compare.fault(spec),
    /** A moved to another time (seek): B is rebuilt on A's scenario and brought to A's time. */
    seek: () => { if (compare.on) compare.restart(); },

    /** The counters' HTML: one value, or A's and B's side by side; each with its explanation. */
    countersHtml(cells) {
      const b = compare.on ? compare.cells() : null;
      const bv = new Map((b || []).map(([k, v]) => [k, v]));
      return cells.map(([k, v, help]) => `<div class="counter" title="${esc(help || COUNTERS[k] || '')}"><div class="k">${k}</div><div class="v">${v}</div>${b ? `<div class="v vb">${bv.get(k) ?? '—'}</div>` : ''}</div>`).join('');
    },

    /** B's update curves for the chart (empty when not comparing). */
    overlaySeries: () => (compare.on ? compare.spread.view(compare.lab.now()).curves : []),

    api: {
      /** Run a second configuration beside this one: `compare({ fanout: 3 })` or `compare('fanout:3')`; null stops. Returns `{ a, b }`, the two scenarios. Throws on bad input. */
      compare: (spec) => startCompare(spec),
      /** The two runs' reports, `{ a, b }`, as gossip sim --json prints them (JSON text); null when not comparing. */
      compareReports: () => compare.reports(),
      /** B's scenario and what it changes: `{ spec, dropped, scenario }`, or null. */
      compared: () => (compare.on ? { spec: { ...compare.spec }, dropped: [...compare.dropped], scenario: compare.lab.scenario(), time_ms: compare.lab.now(), stopped: compare.lab.stopped() ?? null } : null),
      /** The lessons: `[{ id, title, params, compare, steps, outcome }]`. */
      lessons: () => LESSONS.map(({ check, ...l }) => l),
      /** The open lesson's id and its current step (-1: before the first), or null. */
      lesson: () => (lesson ? { id: lesson.id, step: currentStep() } : null),
      /** Advance to the open lesson's next step (and pause); returns the new time. */
      lessonNext: nextStep,
      /** Open or close the help panel; returns whether it is open. */
      help(on) { toggleHelp(on === undefined ? panel.hidden : !!on); return !panel.hidden; },
    },
  };
}

export { parseCompare };
