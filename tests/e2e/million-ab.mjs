// The page's compute-only 1,000,000-node run, two built pages alternated
// (a tool): `new Lab(params)` then `advance(Infinity, 1e6)` to the end, as
// million-bench.mjs's "compute only". Usage:
//   [WAIT_MS=ms] node tests/e2e/million-ab.mjs DIR_A DIR_B [pairs=5] [key=value,...]
// (WAIT_MS: time between the page's load and the run, as a person takes to
// ask for it; default 0. Each run is in a fresh browser: nothing cached.
// NATIVE=binary: that `gossip sim` on the same run after each pair, its
// "ran in" wall time, and the ratios of the medians.)
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { serveWww, launch, openLab, computeOnly } from './harness.mjs';
const [a, b] = [process.argv[2], process.argv[3]];
const pairs = Number(process.argv[4] || 5);
const wait = Number(process.env.WAIT_MS || 0);
const native = [];
const params = { nodes: '1000000', protocol: 'push-pull', seed: '1' };
for (const kv of (process.argv[5] || '').split(',').filter(Boolean)) { const [k, v] = kv.split('='); params[k] = v; }
const times = { [a]: [], [b]: [] };
const reports = new Set();
for (let i = 0; i < pairs; i++) {
  for (const dir of i % 2 ? [b, a] : [a, b]) {
    const server = await serveWww(path.resolve(dir));
    const browser = await launch();
    const page = await openLab(browser, server.url, 'nodes=50');
    if (wait) await page.waitForTimeout(wait);
    const r = await computeOnly(page, params);
    times[dir].push(r.s);
    reports.add(r.report);
    await browser.close();
    await server.close();
  }
  if (process.env.NATIVE) {
    const flags = Object.entries(params).flatMap(([k, v]) => [`--${k.replace(/_/g, '-')}`, String(v)]);
    const out = spawnSync(process.env.NATIVE, ['sim', ...flags], { encoding: 'utf8' }).stderr; // ("ran in" is on stderr)
    native.push(Number(/ran in ([0-9.]+) s/.exec(out)[1]));
  }
}
const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
for (const d of [a, b]) console.log(`${d}: ${times[d].map((t) => t.toFixed(3)).join(' ')} median ${med(times[d]).toFixed(3)}`);
if (native.length) {
  console.log(`native: ${native.map((t) => t.toFixed(3)).join(' ')} median ${med(native).toFixed(3)}`);
  for (const d of [a, b]) console.log(`${d} / native, medians: ${(med(times[d]) / med(native)).toFixed(2)}, best: ${(Math.min(...times[d]) / Math.min(...native)).toFixed(2)}`);
}
console.log(`reports identical: ${reports.size === 1}`);
