// Big networks: a single rumor past 20,000 nodes runs on the compact
// engine (`Lab.engine()` is `compact`, as `gossip sim` chooses it), which
// keeps only whether each node knows the rumor. The inspector, the hover
// tip and the trace button say so plainly here instead of showing empty
// panels; the network is drawn as cells (netview.js's level of detail) and
// the chart, counters and seek work as for any gossip run.

import { Status } from './pkg/gossip.js';

/** Whether `lab` runs on the compact engine. */
export function isCompact(lab) {
  return !!lab && lab.engine() === 'compact';
}

const KEEPS = 'This run is on the compact engine (a single rumor past 20,000 nodes): it keeps whether each node knows the rumor, not its view, who told it, or the messages it sent. Run 20,000 nodes or fewer to inspect nodes one by one.';

/** What node `i` is, from its `Status` code this frame. */
function stateOf(status, i) {
  const s = status ? status[i] : undefined;
  if (s === undefined) return 'unknown';
  return s === Status.Down ? 'down' : s === Status.Current ? 'knows the rumor' : 'not informed yet';
}

/** Fill the inspector for node `i` (-1: none) of a compact run. */
export function renderCompactInspector(i, lab, status, title, body) {
  const n = lab.len();
  title.textContent = i >= 0 && i < n ? `#${i} · compact run` : `compact run · ${n.toLocaleString()} nodes`;
  body.className = 'insp-empty compact-note';
  body.textContent = (i >= 0 && i < n ? `Node ${i}: ${stateOf(status, i)}. ` : '') + KEEPS;
}

/** The hover tip of node `i` in a compact run (HTML). */
export function compactTip(i, status) {
  return `<b>node ${i}</b> · ${stateOf(status, i)}<br><span style="color:#8a97b3">compact engine: no per-node details</span>`;
}

/** Disable what a compact run cannot give (the event trace), saying why; restore it otherwise. */
export function markCompactControls(on, traceButton) {
  if (!traceButton) return;
  traceButton.disabled = on;
  traceButton.title = on ? 'the compact engine keeps no event trace (what each node learned from whom)' : '';
}

/**
 * Run a small compact run of each of the engine's paths (push-pull and
 * pull's rounds, push's rounds, rumor's ticks) once, in idle time after
 * the page loads, so that the browser has optimised their code before a
 * big run needs it. V8 compiles WebAssembly quickly first and optimises a
 * function only after it has run a while, in the background: a
 * million-node run started cold spent its first rounds in the quick code
 * (its compute took 0.35-0.6 s the first time in a page, 0.30-0.34 s
 * after). About 20 ms each, on a 10,000-node population freed at once,
 * each in an idle period long enough for it (so no frame waits); none
 * once the page's own run is a compact one (it warms the code itself).
 * `current()`: the page's run now.
 */
export function warmCompact(Lab, current) {
  const runs = ['push-pull', 'push', 'rumor'];
  const later = (f) => (window.requestIdleCallback ? requestIdleCallback(f) : setTimeout(f, 200));
  const next = (deadline) => {
    if (!runs.length || isCompact(current())) return;
    if (deadline && deadline.timeRemaining() < 25) { later(next); return; }
    const protocol = runs.shift();
    try {
      const lab = new Lab({ nodes: '10000', seed: '1', engine: 'compact', protocol });
      for (let guard = 0; guard < 1000 && !lab.stopped(); guard++) lab.advance(Infinity, 1e6);
      lab.free();
    } catch (e) {
      console.warn(`warming the compact engine (${protocol}) failed:`, e);
    }
    later(next);
  };
  later(next);
}
