// The page benchmark (not a test): frames per second in headless chromium
// while a run animates, for several network sizes. Usage:
//   node tests/e2e/bench.mjs            (after scripts/build-web.sh)
import { serveWww, launch, openLab } from './harness.mjs';

const cases = [
  ['50 nodes, movies, events, 1x', { nodes: 50, scenario: 'movies', model: 'events' }, 1],
  ['1,000 nodes, movies, events, 1x', { nodes: 1000, scenario: 'movies', model: 'events', duration_s: 600 }, 1],
  ['2,000 nodes, movies, events, 1x', { nodes: 2000, scenario: 'movies', model: 'events', duration_s: 600 }, 1],
  ['10,000 nodes, single, rounds, 1x', { nodes: 10000, scenario: 'single', model: 'rounds', protocol: 'push-pull', duration_s: 600 }, 1],
];
const seconds = Number(process.env.BENCH_SECONDS || 5);
const server = await serveWww();
const browser = await launch();
console.log(`| case | fps | JS ms per frame (advance / read / draw / ui) |`);
console.log(`|---|---|---|`);
for (const [name, params, speed] of cases) {
  const page = await openLab(browser, server.url, 'nodes=20');
  const r = await page.evaluate(async ([params, speed, seconds]) => {
    const L = window.gossipLab;
    L.configure(params);
    L.setSpeed(speed);
    L.play();
    await new Promise((r) => setTimeout(r, 1000)); // warm up
    L.frameStats();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const s = L.frameStats();
    return { fps: s.frames / ((performance.now() - t0) / 1000), s };
  }, [params, speed, seconds]);
  const per = (k) => (r.s[k] / Math.max(1, r.s.frames)).toFixed(1);
  console.log(`| ${name} | ${r.fps.toFixed(1)} | ${per('advance')} / ${per('read')} / ${per('draw')} / ${per('ui')} |`);
  await page.close();
}
await browser.close();
await server.close();
