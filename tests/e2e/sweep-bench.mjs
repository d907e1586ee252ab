// How long the sweep viewer takes with a big sweep (BENCHMARKS.md, "Sweep
// viewer"): makes a 10,000-run CSV with the native binary (100 nodes, single
// rumor, 5 fanouts x 5 losses x 400 seeds), then in chromium times loading it
// (parse, group, link every run, draw the plot and the first table rows, up
// to the next frame) and re-plotting against the other parameter, best of 3.
// Run: node tests/e2e/sweep-bench.mjs (after cargo build --release and
// scripts/build-web.sh).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT, serveWww, launch } from './harness.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gossip-sweep-bench-'));
const csv = path.join(dir, 'big.csv');
execFileSync(path.join(ROOT, 'target', 'release', 'gossip'), ['sweep', '--nodes', '100', '--vary', 'fanout=1:5', '--vary', 'loss=0:0.2:0.05',
  '--seeds', '400', '-q', '-o', csv], { stdio: ['ignore', 'ignore', 'inherit'] });
const text = fs.readFileSync(csv, 'utf8');
const server = await serveWww();
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${server.url}sweep.html`);
  await page.waitForFunction(() => document.documentElement.dataset.ready === '1');
  const frame = 'new Promise((r) => requestAnimationFrame(() => setTimeout(r)))';
  const best = { load: Infinity, replot: Infinity };
  for (let k = 0; k < 3; k++) {
    best.load = Math.min(best.load, await page.evaluate(async ([t, f]) => { const a = performance.now(); window.sweepView.load(t, 'big.csv'); await eval(f); return performance.now() - a; }, [text, frame]));
    best.replot = Math.min(best.replot, await page.evaluate(async (f) => { const a = performance.now(); window.sweepView.plot('messages', 'loss'); await eval(f); return performance.now() - a; }, frame));
  }
  const shown = await page.evaluate(() => window.sweepView.shown());
  console.log(`sweep viewer: ${shown.runs} runs (${(text.length / 1e6).toFixed(1)} MB), ${shown.configs} configurations: load ${best.load.toFixed(0)} ms, re-plot ${best.replot.toFixed(0)} ms (best of 3); load average ${os.loadavg()[0].toFixed(1)}`);
} finally {
  await browser.close();
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
