// Screenshots of the lab for the README and for looking at (not a test):
//   node tests/e2e/shot.mjs [hash] [out.png] [wait_ms]
import path from 'node:path';
import fs from 'node:fs';
import { SHOTS, serveWww, launch, openLab } from './harness.mjs';
const [hash = '', out = path.join(SHOTS, 'shot.png'), wait = '4000'] = process.argv.slice(2);
fs.mkdirSync(path.dirname(out), { recursive: true });
const server = await serveWww();
const browser = await launch();
const page = await openLab(browser, server.url, hash);
await page.waitForTimeout(Number(wait));
await page.screenshot({ path: out });
if (page.errors.length) console.error(page.errors.join('\n'));
await browser.close();
await server.close();
