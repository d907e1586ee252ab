// Where the page's drawn 1,000,000-node run spends its wall time (a tool):
// configure, play at max speed, then gossipLab.frameStats() and the wall
// time. Usage: LAB_WWW=DIR node tests/e2e/million-frames.mjs [repeats=2]
import { serveWww, launch, openLab } from './harness.mjs';
const reps = Number(process.argv[2] || 2);
const params = { nodes: '1000000', protocol: 'push-pull', seed: '1' };
const server = await serveWww();
const browser = await launch();
for (let i = 0; i < reps; i++) {
  const page = await openLab(browser, server.url, 'nodes=1000');
  const cdp = process.env.PROFILE ? await page.context().newCDPSession(page) : null;
  if (cdp) { await cdp.send('Profiler.enable'); await cdp.send('Profiler.setSamplingInterval', { interval: 200 }); }
  // PROFILE=run: the run alone; PROFILE=1: configure and the run
  if (cdp && process.env.PROFILE !== 'run') await cdp.send('Profiler.start');
  const b = await page.evaluate(async (params) => {
    const g = window.gossipLab;
    g.pause();
    const t0 = performance.now();
    g.configure(params);
    return performance.now() - t0;
  }, params);
  if (cdp && process.env.PROFILE === 'run') await cdp.send('Profiler.start');
  const d = await page.evaluate(async (params) => {
    const g = window.gossipLab;
    const t1 = performance.now();
    g.frameStats();
    g.setSpeed('max');
    g.play();
    await new Promise((resolve) => { const poll = () => (/\b(ok|warn)\b/.test(document.getElementById('state').className) ? resolve() : requestAnimationFrame(poll)); requestAnimationFrame(poll); });
    const t2 = performance.now();
    const f = g.frameStats();
    for (const k of Object.keys(f)) f[k] = Math.round(f[k]);
    return { run_ms: Math.round(t2 - t1), ...f };
  }, params);
  d.build_ms = Math.round(b);
  console.log(JSON.stringify(d));
  if (cdp) {
    const { profile } = await cdp.send('Profiler.stop');
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map();
    let total = 0;
    for (let k = 0; k < profile.samples.length; k++) {
      const n = byId.get(profile.samples[k]);
      const f = n.callFrame;
      const name = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
      const us = profile.timeDeltas[k] || 0;
      self.set(name, (self.get(name) || 0) + us);
      total += us;
    }
    for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(us / 1e3).toFixed(1).padStart(9)} ms ${(100 * us / total).toFixed(1).padStart(5)} %  ${name.slice(0, 120)}`);
  }
  await page.close();
}
await browser.close();
await server.close();
