// The page benchmark (not a test): frames per second in headless chromium
// while a run animates, for several network sizes. Usage:
//   node tests/e2e/bench.mjs [filter]      (after scripts/build-web.sh)
// BENCH_SECONDS (default 5) per case, BENCH_ROUNDS (default 2) passes over
// all the cases, interleaved; each case reports its best pass (frame rates
// are wall clock on a shared machine) and the range over the passes.
import { serveWww, launch, openLab } from './harness.mjs';

const long = { duration_s: 600 };
const cases = [
  ['50 nodes, movies, events, 1x', { nodes: 50, scenario: 'movies', model: 'events' }],
  ['1,000 nodes, movies, events, 1x', { nodes: 1000, scenario: 'movies', model: 'events', ...long }],
  ['2,000 nodes, movies, events, 1x', { nodes: 2000, scenario: 'movies', model: 'events', ...long }],
  ['2,000 nodes, single, push-pull, events, 1x', { nodes: 2000, scenario: 'single', model: 'events', protocol: 'push-pull', ...long }],
  ['10,000 nodes, single, push-pull, rounds, 1x', { nodes: 10000, scenario: 'single', model: 'rounds', protocol: 'push-pull', ...long }],
  ['10,000 nodes, single, push-pull, events, 1x', { nodes: 10000, scenario: 'single', model: 'events', protocol: 'push-pull', ...long }],
  ['10,000 nodes, single, rumor, events, 1x', { nodes: 10000, scenario: 'single', model: 'events', protocol: 'rumor', ...long }],
  ['10,000 nodes, single, push-pull, events, 10x', { nodes: 10000, scenario: 'single', model: 'events', protocol: 'push-pull', ...long }, 10],
  ['10,000 nodes, single, push-pull, rounds, zoomed in (nodes one by one)', { nodes: 10000, scenario: 'single', model: 'rounds', protocol: 'push-pull', ...long }, 1, 3],
  ['10,000 nodes, movies, events', { nodes: 10000, scenario: 'movies', model: 'events' }],
  ['SWIM, 1,000 members, events, 1x', { membership: 'swim', nodes: 1000, model: 'events', ...long }],
  ['SWIM, 1,000 members, events, 10x', { membership: 'swim', nodes: 1000, model: 'events', ...long }, 10],
  ['SWIM, 1,000 members, events, 1x, member 0 selected, 2 crashed', { membership: 'swim', nodes: 1000, model: 'events', faults: '1s:crash:5,2s:crash:600', ...long }, 1, 1, 0],
  ['HyParView + Plumtree, 1,000 nodes, broadcast, events, 1x', { membership: 'hyparview', protocol: 'plumtree', scenario: 'broadcast', nodes: 1000, model: 'events', warmup_cycles: 10, ...long }],
  ['20,000 nodes, single, push-pull, rounds, 1x', { nodes: 20000, scenario: 'single', model: 'rounds', protocol: 'push-pull', ...long }],
].filter(([name]) => !process.argv[2] || new RegExp(process.argv[2], 'i').test(name));
const seconds = Number(process.env.BENCH_SECONDS || 5);
const server = await serveWww();
const browser = await launch();
const rounds = Number(process.env.BENCH_ROUNDS || 2);
console.log(`Chromium ${browser.version()}, ${seconds} s per case, best of ${rounds} passes`);
const results = cases.map(() => []);
for (let pass = 0; pass < rounds; pass++) {
  for (const [c, [name, params, speed = 1, zoom = 1, select = -1]] of cases.entries()) {
    const page = await openLab(browser, server.url, 'nodes=20');
    const r = await page.evaluate(async ([params, speed, seconds, zoom, select]) => {
      const L = window.gossipLab;
      try { L.configure(params); } catch (e) { return { refused: String(e.message || e) }; }
      L.setSpeed(speed);
      if (select >= 0) L.select(select); // SWIM: the network coloured by this member's view
      const view = L.zoom ? L.zoom(zoom) : { k: 1, lod: false }; // (pages before the zoom: nodes only)
      L.play();
      await new Promise((r) => setTimeout(r, 1000)); // warm up
      L.frameStats();
      const t0 = performance.now();
      let last = t0, worst = 0;
      while (performance.now() - t0 < seconds * 1000) {
        await new Promise((r) => requestAnimationFrame(r));
        const t = performance.now();
        worst = Math.max(worst, t - last);
        last = t;
      }
      const s = L.frameStats();
      return { fps: s.frames / ((performance.now() - t0) / 1000), s, worst, view };
    }, [params, speed, seconds, zoom, select]);
    console.error(`pass ${pass + 1}: ${name}: ${r.refused ? 'refused' : `${r.fps.toFixed(1)} fps`}`);
    results[c].push(r);
    await page.close();
  }
}
console.log(`| case | fps (best) | fps (range) | worst frame | JS ms per frame (advance / read / draw / ui) | view |`);
console.log(`|---|---|---|---|---|---|`);
for (const [c, [name]] of cases.entries()) {
  const rs = results[c];
  if (rs[0].refused) { console.log(`| ${name} | refused: "${rs[0].refused}" | | | | |`); continue; }
  const r = rs.reduce((a, b) => (b.fps > a.fps ? b : a));
  const per = (k) => (r.s[k] / Math.max(1, r.s.frames)).toFixed(1);
  const view = r.view.lod ? 'cells + flows' : `nodes${r.view.k > 1 ? `, zoom ${r.view.k}×` : ''}`;
  const fps = rs.map((x) => x.fps);
  console.log(`| ${name} | ${r.fps.toFixed(1)} | ${Math.min(...fps).toFixed(0)}–${Math.max(...fps).toFixed(0)} | ${Math.round(r.worst)} ms | ${per('advance')} / ${per('read')} / ${per('draw')} / ${per('ui')} | ${view} |`);
}
await browser.close();
await server.close();
