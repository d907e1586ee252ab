// Benchmark (not a test): seeking back 30 s in a 1,000-node movies run in
// Chromium. A seek back rebuilds the scenario and replays it to the time
// asked (no checkpoints), so its cost is the replay from 0 to that time.
// Run: (cd tests/e2e && node seek-bench.mjs); prints one JSON line. HASH=...
// runs another scenario (the page's link parameters).

import { serveWww, launch, openLab } from './harness.mjs';

const HASH = process.env.HASH || 'nodes=1000&seed=1&scenario=movies&model=events&protocol=push-pull&fanout=2&ttl=6&latency_ms=60&jitter_ms=40&duration_s=60';
const server = await serveWww();
const browser = await launch();
try {
  const page = await openLab(browser, server.url, HASH);
  const out = await page.evaluate(() => {
    const g = window.gossipLab;
    g.pause();
    g.configure(g.scenario());
    let t = performance.now();
    g.step(60_000);
    const forward60 = performance.now() - t;
    const runs = [];
    for (const [from, to] of [[60_000, 30_000], [40_000, 10_000], [35_000, 5_000]]) {
      g.seek(from);
      t = performance.now();
      g.seek(to);
      runs.push({ from, to, ms: Math.round(performance.now() - t) });
    }
    return { nodes: g.snapshot().nodes.length, forward_0_to_60s_ms: Math.round(forward60), seeks: runs };
  });
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
  await server.close();
}
