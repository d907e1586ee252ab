// Honest counters and exports. The counters say what they count: messages
// lost to random loss and messages cut by a partition apart (a run with
// loss 0 loses nothing, whatever a partition cut), and, once a partition
// happened, the partition figures `gossip sim` prints (updates caught,
// latency of the clear and the caught ones, repair time after the heal).
// The exports: the chart as a PNG, the run as the `gossip sim` command
// that replays it, and the link's and the command's limits said plainly
// when real nodes take part (only the virtual part replays).
//
// Everything here reads the report keys of `gossip sim --json` (through
// `Lab.metrics()` and `Lab.scenario()`); nothing is computed twice.

const int = (x) => (x === null || x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
const ms = (x) => (x === null || x === undefined ? '—' : x < 1000 ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(2)} s`);

/** The dropped-message counters: `[label, value, help]` cells, loss and partition apart. */
export function dropCells(m) {
  return [
    ['msgs lost', int(m.lost_messages), 'Messages lost to random loss (the loss parameter or a loss fault)'],
    ['cut by partition', int(m.partitioned_messages), 'Messages dropped because sender and receiver were on different sides of a partition'],
  ];
}

/** The fault timeline (`Lab.scenario().faults`) up to `now`: whether a partition began, and whether one is in force. */
function partitionState(faults, now) {
  let began = false, open = false;
  const list = (faults || '').split(',').filter(Boolean).map((f) => f.split(':')).sort((a, b) => Number(a[0]) - Number(b[0]));
  for (const [t, kind] of list) {
    if (Number(t) > now) break;
    if (kind === 'partition') began = open = true;
    else if (kind === 'heal' || kind === 'repair') open = false;
  }
  return { began, open };
}

/**
 * The partition figures of `gossip sim` once a partition happened (the
 * report's `partition` key), as `[label, value, help]` cells; none before
 * virtual time `now` reaches the first partition of the timeline `faults`.
 * `stopped`: whether the run has ended (a repair not seen yet is "not
 * yet" while it runs, "never" after).
 */
export function partitionCells(m, faults, stopped, now) {
  const p = m.partition;
  const at = partitionState(faults, now);
  if (!p || !at.began) return [];
  const repair = at.open ? 'not healed' : p.repair_ms !== null && p.repair_ms !== undefined ? ms(p.repair_ms) : stopped ? 'never' : 'not yet';
  return [
    ['partitions', int(p.partitions), 'Partitions that came in this run (and healed, if the run got there)'],
    ['updates caught', int(p.updates_caught), 'Updates a partition caught while they spread: their latency includes waiting for the heal'],
    ['clear p50', ms(p.latency_ms_clear.median), 'Median latency to the last node of the updates no partition touched: what the protocol does on a whole network'],
    ['caught max', ms(p.latency_ms_caught.max), 'Longest latency to the last node of an update a partition caught'],
    ['repair after heal', repair, 'From the last heal until every caught update had reached every live node'],
  ];
}

/** A value as one shell word (quoted when it holds anything a shell reads). */
function shellWord(v) {
  const s = String(v);
  return /^[A-Za-z0-9._:,+=\/-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/**
 * The `gossip sim` command that runs this scenario (`Lab.scenario()`'s
 * pairs, faults applied so far included): table names become flags
 * (`interval_ms` -> `--interval-ms`), each fault one `--fault`, and
 * `--engine full`, the engine the page runs (its report is then the
 * page's, byte for byte, with `--json`); for a run on the compact engine
 * (`pageEngine`: `Lab.engine()`), no engine flag: gossip sim picks compact
 * for it too.
 */
export function simCommand(pairs, pageEngine = 'full') {
  const words = ['gossip', 'sim'];
  let engine = false;
  for (const [k, v] of Object.entries(pairs)) {
    if (k === 'faults') {
      for (const f of String(v).split(',').filter(Boolean)) words.push('--fault', shellWord(f));
      continue;
    }
    if (k === 'engine') engine = true;
    words.push(`--${k.replace(/_/g, '-')}`, shellWord(v));
  }
  if (!engine && pageEngine === 'full') words.push('--engine', 'full');
  return words.join(' ');
}

/** What a copied link or command replays: the whole run, or (real nodes taking part) only its virtual part. */
export function replayNote(connected, reals, what) {
  if (!connected && !reals) return what === 'link' ? 'Link copied: it replays this exact run.' : 'Command copied: run it for this run\'s report (add --json for the page\'s report, byte for byte).';
  const who = reals ? `${reals} real node${reals === 1 ? '' : 's'}` : 'real nodes';
  const part = `it replays only the virtual part: what the ${who} did (their own timers, the HTTP exchanges and their timing) is not recorded and cannot be replayed, so the run it gives differs from this one`;
  return what === 'link' ? `Link copied, but ${part}.` : `Command copied, but ${part}.`;
}

/**
 * The chart as a PNG blob: the canvas drawn on the card's background with
 * a title line (the scenario), so the picture stands on its own.
 */
export function chartPng(canvas, title) {
  const dpr = canvas.width / Math.max(1, canvas.clientWidth || canvas.width);
  const head = Math.round(26 * dpr);
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height + head;
  const ctx = out.getContext('2d');
  ctx.fillStyle = getComputedStyle(document.documentElement).getPropertyValue('--panel').trim() || '#121a2e';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#e6ebf5';
  ctx.font = `${Math.round(12 * dpr)}px ui-sans-serif, system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  ctx.fillText(title, 10 * dpr, head / 2, out.width - 20 * dpr);
  ctx.drawImage(canvas, 0, head);
  return new Promise((resolve, reject) => out.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not encode the chart'))), 'image/png'));
}

/** A file name for this scenario's exports: `gossip-<what>-<key values>.<ext>`. */
export function exportName(what, pairs, ext) {
  const keep = ['protocol', 'scenario', 'membership', 'nodes', 'fanout', 'loss', 'seed'];
  const parts = keep.filter((k) => pairs[k] !== undefined && !(k === 'membership' && pairs[k] === 'full')).map((k) => `${k === 'nodes' || k === 'seed' || k === 'loss' || k === 'fanout' ? k : ''}${pairs[k]}`);
  const slug = parts.join('-').replace(/[^A-Za-z0-9.-]+/g, '_') || 'defaults';
  return `gossip-${what}-${slug}.${ext}`;
}
