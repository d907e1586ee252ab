// 1,000,000 nodes in the page against native (a benchmark, not a test):
// a single rumor on the compact engine, to the end, best of N, interleaved
// with `gossip sim` on the same machine, reports checked identical. Prints
// a markdown table. Usage (after scripts/build-web.sh and cargo build --release):
//   node tests/e2e/million-bench.mjs [repeats=3] [protocol=push-pull]
//
// native: the `ran in X s` gossip sim prints (building the network and
// running it; its compact first wave on the machine's threads, as
// `gossip sim` runs by default).
// page, compute only: the lab's own module, `new Lab(params)` then
// `advance(Infinity, 1e6)` until it stops (what runToEnd() runs), no frame loop.
// page, drawn: the lab itself, configure(params) (the run, its layout and
// cells) then play at max speed, wall time until the frame loop sees the
// run stopped (the lab gives the run most of each frame, and draws the
// cells, chart and counters every frame).
// memory: the renderer's resident set (ps) after the drawn run, against a
// 1,000-node page in the same browser.
import { spawnSync, execSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, serveWww, launch, openLab, computeOnly } from './harness.mjs';

const BIN = path.join(ROOT, 'target', 'release', 'gossip');
const reps = Number(process.argv[2] || 3);
const protocol = process.argv[3] || 'push-pull';
const params = { nodes: '1000000', protocol, seed: '1' };

function native() {
  const flags = Object.entries(params).flatMap(([k, v]) => [`--${k}`, v]);
  const r = spawnSync(BIN, ['sim', ...flags, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const m = r.stderr.match(/^ran in ([\d.]+) s/m);
  if (r.status !== 0 || !m) throw new Error(`gossip sim: ${r.stderr}`);
  return { s: Number(m[1]), report: r.stdout.trim() };
}

function rendererRssMb() {
  const lines = execSync('ps -eo rss,args').toString().split('\n').filter((l) => l.includes('--type=renderer'));
  return Math.max(0, ...lines.map((l) => Number(l.trim().split(/\s+/)[0]) / 1024));
}

const server = await serveWww();
const browser = await launch();
const best = { n: Infinity, c: Infinity, d: Infinity, build: Infinity };
let rss = 0, rssSmall = 0, report = null;
for (let i = 0; i < reps; i++) {
  const n = native();
  const small = await openLab(browser, server.url, 'nodes=1000');
  await small.waitForTimeout(500);
  rssSmall = Math.max(rssSmall, rendererRssMb());
  const c = await computeOnly(small, params);
  await small.close();
  const page = await openLab(browser, server.url, 'nodes=1000');
  const d = await page.evaluate(async (params) => {
    const g = window.gossipLab;
    g.pause();
    const t0 = performance.now();
    g.configure(params);
    const t1 = performance.now();
    g.setSpeed('max');
    g.play();
    // the state pill turns ok or warn once the frame loop has seen the run stop
    await new Promise((resolve) => { const poll = () => (/\b(ok|warn)\b/.test(document.getElementById('state').className) ? resolve() : requestAnimationFrame(poll)); requestAnimationFrame(poll); });
    return { build: (t1 - t0) / 1000, s: (performance.now() - t1) / 1000, report: g.reportJson() };
  }, params);
  await page.waitForTimeout(500);
  rss = Math.max(rss, rendererRssMb());
  await page.close();
  for (const [k, r] of [['compute', c], ['drawn', d]]) if (r.report !== n.report) { console.error(`${k}: the reports differ`); process.exitCode = 1; }
  report = JSON.parse(n.report);
  best.n = Math.min(best.n, n.s); best.c = Math.min(best.c, c.s); best.d = Math.min(best.d, d.s); best.build = Math.min(best.build, d.build);
  console.error(`run ${i + 1}/${reps}: native ${n.s.toFixed(3)} s, page compute ${c.s.toFixed(3)} s, page drawn ${d.build.toFixed(3)} s build + ${d.s.toFixed(3)} s to the end`);
}
await browser.close();
await server.close();
console.log(`\nChromium ${browser.version()} headless, ${execSync('nproc').toString().trim()} cores, load ${execSync('cat /proc/loadavg').toString().split(' ').slice(0, 3).join(' ')}, best of ${reps}, reports identical: ${process.exitCode ? 'NO' : 'yes'}`);
console.log(`1,000,000 nodes, ${protocol}, rounds: ${report.stop_reason} at ${report.time_ms} ms, residue ${report.residue}, ${report.events} events\n`);
console.log('| native (gossip sim) | page, compute only | ratio | page, drawn at max speed (+ build and layout) | ratio | renderer RSS (1,000-node page) |');
console.log('|---|---|---|---|---|---|');
console.log(`| ${best.n.toFixed(3)} s | ${best.c.toFixed(3)} s | ${(best.c / best.n).toFixed(2)} | ${best.d.toFixed(3)} s (+ ${best.build.toFixed(3)} s) | ${(best.d / best.n).toFixed(2)} | ${rss.toFixed(0)} MB (${rssSmall.toFixed(0)} MB) |`);
