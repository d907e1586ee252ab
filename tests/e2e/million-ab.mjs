// The page's compute-only 1,000,000-node run, two built pages alternated
// (a tool): `new Lab(params)` then `advance(Infinity, 1e6)` to the end, as
// million-bench.mjs's "compute only". Usage:
//   [WAIT_MS=ms] node tests/e2e/million-ab.mjs DIR_A DIR_B [pairs=5] [key=value,...]
// (WAIT_MS: time between the page's load and the run, as a person takes to
// ask for it; default 0. Each run is in a fresh browser: nothing cached.)
import path from 'node:path';
import { serveWww, launch, openLab, computeOnly } from './harness.mjs';
const [a, b] = [process.argv[2], process.argv[3]];
const pairs = Number(process.argv[4] || 5);
const wait = Number(process.env.WAIT_MS || 0);
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
}
const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
for (const d of [a, b]) console.log(`${d}: ${times[d].map((t) => t.toFixed(3)).join(' ')} median ${med(times[d]).toFixed(3)}`);
console.log(`reports identical: ${reports.size === 1}`);
