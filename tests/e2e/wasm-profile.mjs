// Where the page's wasm spends a compute-only 1,000,000-node run (a tool,
// not a test): Chromium's sampling profiler over `new Lab(params)` then
// `advance(Infinity, 1e6)` to the end, self time summed by function name.
// Needs a build that keeps the wasm names (the page's build strips them):
//   CARGO_TARGET_DIR=target/names RUSTFLAGS="-C target-feature=+simd128" \
//     wasm-pack build --profile web --target web --out-dir /tmp/names/pkg --no-pack --no-typescript
//   cp -r www/*.js www/*.html www/*.css www/lab-config.json /tmp/names/
//   LAB_WWW=/tmp/names node tests/e2e/wasm-profile.mjs [protocol=push-pull] [nodes=1000000] [top=40] [key=value,...]
// (the last argument adds or overrides the run's parameters, e.g.
// `scenario=movies,model=events,duration_s=20` for the page's 1,000-node movies run)
import { serveWww, launch, openLab } from './harness.mjs';

const protocol = process.argv[2] || 'push-pull';
const nodes = process.argv[3] || '1000000';
const top = Number(process.argv[4] || 40);
const params = { nodes, protocol, seed: '1' };
for (const kv of (process.argv[5] || '').split(',').filter(Boolean)) {
  const [k, v] = kv.split('=');
  params[k] = v;
}
const server = await serveWww();
const browser = await launch();
const page = await openLab(browser, server.url, 'nodes=1000');
// WAIT_MS: time after the load before the run (the page warms its compact engine in idle time)
await page.waitForTimeout(Number(process.env.WAIT_MS || 0));
await page.evaluate(() => window.gossipLab.pause());
const cdp = await page.context().newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
await cdp.send('Profiler.start');
const s = await page.evaluate(async (params) => {
  const { Lab } = await import('./pkg/gossip.js');
  const t0 = performance.now();
  const lab = new Lab(params);
  for (let guard = 0; guard < 1e7 && !lab.stopped(); guard++) lab.advance(Infinity, 1e6);
  const s = (performance.now() - t0) / 1000;
  lab.free();
  return s;
}, params);
const { profile } = await cdp.send('Profiler.stop');
await browser.close();
await server.close();
const self = new Map();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = new Map();
for (let k = 0; k < profile.samples.length; k++) dt.set(profile.samples[k], (dt.get(profile.samples[k]) || 0) + (profile.timeDeltas[k] || 0));
let total = 0;
for (const [id, us] of dt) {
  const n = byId.get(id);
  const name = n.callFrame.functionName || `(${n.callFrame.url.split('/').pop()})`;
  self.set(name, (self.get(name) || 0) + us);
  total += us;
}
console.log(`${JSON.stringify(params)}: ${s.toFixed(3)} s; profile ${(total / 1e6).toFixed(3)} s`);
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(us / 1e3).toFixed(1).padStart(9)} ms ${(100 * us / total).toFixed(1).padStart(5)} %  ${name.slice(0, 160)}`);
// PROFILE_CALLERS=substring: also the callers (two levels up) of the
// functions whose name holds it, by self time.
if (process.env.PROFILE_CALLERS) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n);
  const name = (n) => (n ? n.callFrame.functionName || '(root)' : '-').replace(/::h[0-9a-f]{16}$/, '').slice(0, 90);
  const by = new Map();
  for (const [id, us] of dt) {
    const n = byId.get(id);
    if (!name(n).includes(process.env.PROFILE_CALLERS)) continue;
    const p = parent.get(n.id);
    const key = `${name(n)} <- ${name(p)} <- ${name(p && parent.get(p.id))}`;
    by.set(key, (by.get(key) || 0) + us);
  }
  for (const [k, us] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${(us / 1e3).toFixed(1).padStart(9)} ms  ${k}`);
}
