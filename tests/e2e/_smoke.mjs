import { serveWww, launch, openLab } from './harness.mjs';
const s = await serveWww(); const b = await launch();
const painted = (p) => p.evaluate(() => { const c = document.getElementById('chart'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return [n, c.width, c.height]; });
for (const h of ['nodes=40&seed=7&scenario=movies&model=events&duration_s=12', 'nodes=40&seed=7&scenario=movies&model=events&duration_s=12&compare=fanout:3']) {
const p = await openLab(b, s.url, h);
await p.evaluate(() => window.gossipLab.setSpeed(10));
await p.waitForTimeout(2000);
console.log(h, await painted(p), p.errors);
await p.screenshot({ path: `/tmp/h3-c${h.length}.png` });
}
await b.close(); await s.close();
