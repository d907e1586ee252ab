// A built page's wasm run in Node's V8, outside the browser (a tool, not a
// test): `new Lab(params)` then `advance(Infinity, 1e6)` to the end, as
// million-bench.mjs's "compute only". Run under callgrind it gives an
// instruction count that repeats within 0.2 % (TurboFan only, one
// thread), where browser timings on this shared machine swing by 2x:
//   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
//     node --no-liftoff --single-threaded tests/e2e/wasm-instr.mjs DIR [key=value,...]
// (scripts/wasm-instr.sh runs that for two pages). DIR: a built page (www).
import fs from 'node:fs';
import path from 'node:path';

const dir = path.resolve(process.argv[2] || 'www');
const params = { nodes: '1000000', protocol: 'push-pull', seed: '1' };
for (const kv of (process.argv[3] || '').split(',').filter(Boolean)) {
  const [k, v] = kv.split('=');
  params[k] = v;
}
const mod = await import(path.join(dir, 'pkg', 'gossip.js'));
mod.initSync({ module: fs.readFileSync(path.join(dir, 'pkg', 'gossip_bg.wasm')) });
const t0 = performance.now();
const lab = new mod.Lab(params);
for (let guard = 0; guard < 1e7 && !lab.stopped(); guard++) lab.advance(Infinity, 1e6);
const s = (performance.now() - t0) / 1000;
const report = JSON.parse(lab.report_json());
lab.free();
console.log(`${JSON.stringify(params)}: ${s.toFixed(3)} s, ${report.stop_reason} at ${report.time_ms} ms, ${report.events} events`);
