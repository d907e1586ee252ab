// WebAssembly against native (a benchmark, not a test): the same runs in
// headless chromium through the page's wasm build and natively, best of N
// each, interleaved, with both reports checked identical. Prints a markdown
// table. Usage (after scripts/build-web.sh and cargo build --release):
//   node tests/e2e/wasm-vs-native.mjs [repeats=3] [filter]
//
// Page: the lab's own wasm handle, `new Lab(params)` then
// `advance(Infinity, 1e6)` until it stops, exactly what gossipLab.configure()
// + runToEnd() run (the viewer's trace and flight log on), minus drawing; the
// report is encoded after the clock stops. Networks over the page's 20,000-node display limit can
// only be run this way. Native: `gossip sim <same flags> --engine full --threads 1 --json`
// (one thread, as the page);
// its time is the `ran in X s` it prints (building the network and running
// it, not process start-up nor JSON), which covers the same work as the page
// figure. Times are wall clock on a shared machine: best of N.
//
// The page's run also records who told whom (every delivery's sender and
// hop, the trace, the counter rows: what its inspector, trees and exports
// show), which `gossip sim` does not. For the full-node runs of movies the
// table adds the same recording natively, `told_cost page NODES SECONDS`
// (tools/told_cost.rs: the page's `Live` run, advanced as the page's `Lab`
// is here; build it with `cargo build --release --example told_cost`), and
// the page's CPU time against it: the cost of WebAssembly alone, the
// same work on both sides.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { ROOT, WWW, serveWww, launch } from './harness.mjs';

const BIN = path.join(ROOT, 'target', 'release', 'gossip');
const TOLD = path.join(ROOT, 'target', 'release', 'examples', 'told_cost');
const reps = Number(process.argv[2] || process.env.REPEATS || 3);
const filter = process.argv[3] ? new RegExp(process.argv[3], 'i') : null;

const cases = [
  ['20,000 nodes, single, push-pull, rounds', { nodes: 20000, scenario: 'single', model: 'rounds', protocol: 'push-pull' }],
  ['100,000 nodes, single, push-pull, rounds', { nodes: 100000, scenario: 'single', model: 'rounds', protocol: 'push-pull' }],
  ['100,000 nodes, single, push-pull, events', { nodes: 100000, scenario: 'single', model: 'events', protocol: 'push-pull' }],
  ['50,000 nodes, single, rumor (coin 3), events', { nodes: 50000, scenario: 'single', model: 'events', protocol: 'rumor', coin: 3 }],
  ['500 nodes, movies, events, 20 s', { nodes: 500, scenario: 'movies', model: 'events', duration_s: 20 }],
  ['1,000 nodes, movies, events, 20 s', { nodes: 1000, scenario: 'movies', model: 'events', duration_s: 20 }],
  ['SWIM, 2,000 members, events, 60 s', { membership: 'swim', nodes: 2000, model: 'events', duration_s: 60 }],
  ['HyParView + Plumtree, 2,000 nodes, broadcast, events, 30 s', { membership: 'hyparview', protocol: 'plumtree', scenario: 'broadcast', nodes: 2000, model: 'events', warmup_cycles: 15, duration_s: 30 }],
].filter(([name]) => !filter || filter.test(name));

for (const f of [BIN, path.join(WWW, 'pkg', 'gossip_bg.wasm')]) {
  if (!fs.existsSync(f)) { console.error(`missing ${f}: run cargo build --release and scripts/build-web.sh`); process.exit(2); }
}

// Native: wall time from its own "ran in" line, CPU time (user + system, the
// whole process: start-up and JSON are about a millisecond) from /usr/bin/time.
function native(params) {
  const flags = Object.entries(params).flatMap(([k, v]) => [`--${k.replace(/_/g, '-')}`, String(v)]);
  const tf = path.join(os.tmpdir(), `gossip-time-${process.pid}`);
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', tf, BIN, 'sim', ...flags, '--engine', 'full', '--threads', '1', '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`gossip sim ${flags.join(' ')}: ${r.stderr}`);
  const m = r.stderr.match(/^ran in ([\d.]+) s/m);
  if (!m) throw new Error(`no "ran in" line from gossip sim: ${r.stderr}`);
  const [u, sys] = fs.readFileSync(tf, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  fs.rmSync(tf, { force: true });
  return { s: Number(m[1]), cpu: u + sys, report: r.stdout.trim() };
}

// The page's run natively, recording included (movies of full nodes only):
// CPU time of `told_cost page NODES SECONDS`, which runs that scenario with
// the page's parameters.
function recordedCase(params) {
  const keys = Object.keys(params).sort().join(',');
  return keys === 'duration_s,model,nodes,scenario' && params.scenario === 'movies' && params.model === 'events';
}
function nativeRecorded(params) {
  const tf = path.join(os.tmpdir(), `gossip-time-r-${process.pid}`);
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', tf, TOLD, 'page', String(params.nodes), String(params.duration_s)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`told_cost page: ${r.stderr}`);
  const [u, sys] = fs.readFileSync(tf, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  fs.rmSync(tf, { force: true });
  return u + sys;
}

// Page: wall time from performance.now(); CPU time of the page's main thread
// from the DevTools protocol (Performance metrics in thread ticks).
async function inPage(page, cdp, params) {
  const task = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
  const before = await task();
  const r = await page.evaluate(async (params) => {
    const { Lab } = await import('./pkg/gossip.js'); // the page's module, already initialised
    const str = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
    const t0 = performance.now();
    const lab = new Lab(str);
    for (let guard = 0; guard < 1e7 && !lab.stopped(); guard++) lab.advance(Infinity, 1e6);
    const t1 = performance.now();
    const report = lab.report_json(); // native encodes its report after its clock stops
    const t2 = performance.now();
    lab.free(); // native drops its network inside its clock
    return { s: (t1 - t0 + performance.now() - t2) / 1000, report };
  }, params);
  r.cpu = (await task()) - before;
  return r;
}

const server = await serveWww();
const browser = await launch();
const version = browser.version();
const rows = [];
for (const [name, params] of cases) {
  const best = { w: Infinity, n: Infinity, wc: Infinity, nc: Infinity, rc: Infinity };
  const recorded = recordedCase(params) && fs.existsSync(TOLD);
  let events = 0;
  // A fresh page per case (wasm memory only grows, so one case's heap does
  // not carry over), on the lab's origin but without the lab's frame loop,
  // which would draw 60 frames a second while native runs: the lab's own
  // module, loaded and initialised as app.js does.
  const page = await browser.newPage();
  await page.goto(`${server.url}bench-blank`);
  await page.evaluate(async () => { const m = await import('./pkg/gossip.js'); await m.default(); });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  for (let i = 0; i < reps; i++) {
    // interleaved, alternating which goes first
    const order = i % 2 === 0 ? ['n', 'r', 'w'] : ['w', 'r', 'n'];
    let n, w, rc = Infinity;
    for (const o of order) {
      if (o === 'n') n = native(params);
      else if (o === 'r') { if (recorded) rc = nativeRecorded(params); }
      else w = await inPage(page, cdp, params);
    }
    best.rc = Math.min(best.rc, rc);
    if (w.report !== n.report) {
      console.error(`${name}: the reports differ\n page:   ${w.report.slice(0, 300)}\n native: ${n.report.slice(0, 300)}`);
      process.exitCode = 1;
    }
    best.w = Math.min(best.w, w.s);
    best.n = Math.min(best.n, n.s);
    best.wc = Math.min(best.wc, w.cpu);
    best.nc = Math.min(best.nc, n.cpu);
    events = JSON.parse(n.report).events;
    console.error(`${name}: run ${i + 1}/${reps}: wasm ${w.s.toFixed(3)} s (cpu ${w.cpu.toFixed(3)}), native ${n.s.toFixed(3)} s (cpu ${n.cpu.toFixed(3)})${recorded ? `, native with the page's recording cpu ${rc.toFixed(3)}` : ''}`);
  }
  rows.push([name, best, events]);
  await page.close();
}
await browser.close();
await server.close();

const { execSync } = await import('node:child_process');
const cores = execSync('nproc').toString().trim();
console.log(`\nChromium ${version} headless, ${cores} cores, ${new Date().toISOString().slice(0, 10)}, best of ${reps}, reports identical: ${process.exitCode ? 'NO' : 'yes'}\n`);
console.log('| run | events | wasm wall | native wall | ratio (wall) | wasm CPU | native CPU | ratio (CPU) | native CPU, same recording | ratio (CPU, same work) |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
const f = (x) => `${x.toFixed(2)} s`;
for (const [name, b, events] of rows) {
  const same = Number.isFinite(b.rc) ? [f(b.rc), (b.wc / b.rc).toFixed(2)] : ['-', '-'];
  console.log(`| ${name} | ${events.toLocaleString('en-US')} | ${f(b.w)} | ${f(b.n)} | ${(b.w / b.n).toFixed(2)} | ${f(b.wc)} | ${f(b.nc)} | ${(b.wc / b.nc).toFixed(2)} | ${same.join(' | ')} |`);
}
