/**
 * Makes docs/report.png, the README's picture of a release report: the demo's canary releases
 * (test/support/demo-canary.ts, as in `npm run demo`), v1.3.0's report written as
 * `tagflow report` writes it, and the top of that page, through its first canary charts,
 * captured in headless Chromium.
 *
 *   npx tsx docs/report-screenshot.ts            (needs Chromium: apt-get install -y chromium)
 */
import '../local/runtime/polyfills.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../local/cli/report.js';
import { launchChromium } from '../test/support/chromium.js';
import { runDemoCanaryReleases } from '../test/support/demo-canary.js';

const out = join(import.meta.dirname, 'report.png');
const dir = mkdtempSync(join(tmpdir(), 'tagflow-report-shot-'));
const demo = await runDemoCanaryReleases();
try {
  const { file } = await writeReport(demo.h.rt.deps.ledger, 'demo', 'v1.3.0', join(dir, 'v1.3.0.html'));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1000, height: 900, deviceScaleFactor: 1 });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // From the top to the end of the canary's second chart (the ratio's confidence sequence).
    const bottom = await page.evaluate(() => {
      const charts = document.querySelectorAll('.canary figure.chart');
      const last = charts[Math.min(1, charts.length - 1)] ?? document.querySelector('main')!;
      return Math.ceil(last.getBoundingClientRect().bottom + window.scrollY + 16);
    });
    await page.screenshot({ path: out as `${string}.png`, clip: { x: 0, y: 0, width: 1000, height: bottom } });
  } finally {
    await browser.close();
  }
  console.log(`wrote ${out}`);
} finally {
  await demo.h.close();
  rmSync(dir, { recursive: true, force: true });
}
