import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_LOCATIONS } from '../../local/runtime/runtime.js';
import { ReleaseNotFound, writeReport } from '../../local/cli/report.js';
import { launchChromium } from '../support/chromium.js';
import { runDemoCanaryReleases, type DemoCanaryReleases } from '../support/demo-canary.js';

/**
 * The demo's canary releases through the real ASL (a failed canary rolled back, a healthy one
 * promoted), their reports as record-outcome wrote them to the artifacts bucket and as
 * `tagflow report` writes them, opened in headless Chromium: what a person sees — the verdict,
 * each chart drawn with its points, the verdicts marked — with no console error and no request
 * beyond the file itself.
 */

const SLOW_MACHINE = { timeout: 240_000 };
let demo: DemoCanaryReleases;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tagflow-report-'));
  // Launched first: without Chromium the test fails at once, saying how to install it.
  browser = await launchChromium();
  demo = await runDemoCanaryReleases();
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await demo?.h.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Seen {
  verdict: string;
  verdictTop: number;
  reason: string;
  charts: { id: string; width: number; height: number; circles: number; rects: number; paths: number; text: string }[];
  problems: string[];
  requests: string[];
}

/** Opens a report file as a person would and reads what is on screen. */
async function open(file: string): Promise<Seen> {
  const page = await browser.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('request', (r) => requests.push(r.url()));
  try {
    await page.setViewport({ width: 1100, height: 900 });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const seen = await page.evaluate(() => {
      const verdict = document.querySelector<HTMLElement>('#verdict .verdict')!;
      const charts = Array.from(document.querySelectorAll<HTMLElement>('figure.chart')).map((f) => {
        // The chart itself, not the legend's swatches.
        const svg = Array.from(f.querySelectorAll('svg')).reduce((a, b) => (b.getBoundingClientRect().width > a.getBoundingClientRect().width ? b : a));
        const box = svg.getBoundingClientRect();
        return {
          id: f.dataset.chart ?? '',
          width: box.width,
          height: box.height,
          circles: svg.querySelectorAll('circle').length,
          rects: svg.querySelectorAll('rect').length,
          paths: svg.querySelectorAll('path').length,
          text: svg.textContent ?? '',
        };
      });
      return { verdict: verdict.innerText, verdictTop: verdict.getBoundingClientRect().top, reason: document.querySelector<HTMLElement>('#verdict .reason')!.innerText, charts };
    });
    return { ...seen, problems, requests };
  } finally {
    await page.close();
  }
}

const chart = (seen: Seen, id: string) => {
  const c = seen.charts.find((x) => x.id === id);
  if (!c) throw new Error(`no chart ${id}; charts: ${seen.charts.map((x) => x.id).join(', ')}`);
  return c;
};
const CANARY_CHARTS = ['error-rate', 'ratio-errors', 'ratio-latency', 'ratio-latency-shift', 'requests', 'split', 'slow'];

describe('the release report in a browser', () => {
  it('record-outcome wrote each report to the artifacts bucket and its event carries the S3 URI', SLOW_MACHINE, async () => {
    expect([demo.failed.status, demo.failed.error]).toEqual(['FAILED', 'CanaryFailed']);
    expect(demo.passed.status).toBe('SUCCEEDED');
    const events = demo.h.rt.emitted.filter((e) => ['Release Succeeded', 'Release Failed', 'Release Rolled Back'].includes(e.DetailType));
    expect(events.map((e) => [e.DetailType, (e.Detail as { version: string }).version, (e.Detail as { report?: unknown }).report])).toEqual([
      ['Release Succeeded', 'v1.0.0', 's3://tagflow-artifacts/reports/demo/v1.0.0.html'],
      ['Release Rolled Back', 'v1.2.0', 's3://tagflow-artifacts/reports/demo/v1.2.0.html'],
      ['Release Succeeded', 'v1.3.0', 's3://tagflow-artifacts/reports/demo/v1.3.0.html'],
    ]);
    const stored = await demo.h.rt.deps.store.get({ bucket: LOCAL_LOCATIONS.artifactsBucket, key: 'reports/demo/v1.3.0.html' });
    const html = Buffer.from(stored!).toString('utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<span class="verdict succeeded">Succeeded</span>');
  });

  it('a healthy canary: the verdict on screen, every chart drawn with its points, each step passed where it happened, no console error', SLOW_MACHINE, async () => {
    const { file, summary } = await writeReport(demo.h.rt.deps.ledger, 'demo', 'v1.3.0', join(dir, 'v1.3.0.html'));
    expect(summary).toBe(`demo v1.3.0 (succeeded: v1.3.0 is live in dev, staging, prod) → ${file}`);
    const seen = await open(file);
    expect(seen.problems).toEqual([]);
    expect(seen.requests).toEqual([pathToFileURL(file).href]);
    expect(seen.verdict).toBe('Succeeded');
    expect(seen.verdictTop).toBeLessThan(900);
    expect(seen.reason).toBe('v1.3.0 is live in dev, staging, prod');

    expect(seen.charts.map((c) => c.id)).toEqual(['timeline', ...CANARY_CHARTS]);
    for (const c of seen.charts) {
      expect(c.width, c.id).toBeGreaterThan(300);
      expect(c.height, c.id).toBeGreaterThan(100);
    }
    // The timeline: a bar per step; the canary's charts: a point per look (and arm).
    expect(chart(seen, 'timeline').rects).toBeGreaterThanOrEqual(15);
    const looks = (await demo.h.rt.deps.ledger.decisions('demo', 'v1.3.0')).filter((d) => d.step === 'judge').length;
    expect(looks).toBeGreaterThanOrEqual(2);
    for (const id of ['error-rate', 'requests', 'slow']) expect(chart(seen, id).circles, id).toBe(2 * looks);
    expect(chart(seen, 'split').circles).toBe(looks);
    expect(chart(seen, 'ratio-errors').circles).toBeGreaterThan(0);
    expect(chart(seen, 'ratio-errors').text).toContain('passRatio 4×');
    // Prod's canary passed at 10% and at 50%; each chart marks both.
    for (const id of CANARY_CHARTS) {
      expect(chart(seen, id).text, id).toContain('passed at 10%');
      expect(chart(seen, id).text, id).toContain('passed at 50%');
    }
  });

  it('a failed canary: "Rolled back" and why, the failure marked on its charts, no console error', SLOW_MACHINE, async () => {
    const { file } = await writeReport(demo.h.rt.deps.ledger, 'demo', 'v1.2.0', join(dir, 'v1.2.0.html'));
    const seen = await open(file);
    expect(seen.problems).toEqual([]);
    expect(seen.verdict).toBe('Rolled back');
    expect(seen.reason).toMatch(/^CanaryFailed in prod: canary v1\.2\.0 failed in prod at 10% .*; canary v1\.2\.0 removed from prod at 10%; all traffic on v1\.0\.0$/);
    // The latency charts appear once latency is judged (after the baseline's first 1000 requests fix
    // its thresholds): a canary failed on errors before then has none, which depends on how many
    // requests a busy machine served before the failing look. The error charts are always there.
    const drawn = seen.charts.map((c) => c.id).filter((id) => id !== 'timeline');
    expect(drawn).toEqual(expect.arrayContaining(['error-rate', 'ratio-errors', 'requests', 'split']));
    expect(CANARY_CHARTS).toEqual(expect.arrayContaining(drawn));
    for (const id of drawn) {
      expect(chart(seen, id).text, id).toContain('failed at 10%');
      expect(chart(seen, id).text, id).not.toContain('passed at');
    }
    expect(chart(seen, 'error-rate').circles).toBeGreaterThan(0);
  });

  it('a release the ledger does not hold: the error names it and the releases it has', SLOW_MACHINE, async () => {
    const missing = writeReport(demo.h.rt.deps.ledger, 'demo', 'v1.3.1', join(dir, 'none.html'));
    await expect(missing).rejects.toThrow(ReleaseNotFound);
    await expect(missing).rejects.toThrow('--version v1.3.1: demo has no release v1.3.1; its releases: v1.3.0, v1.2.0, v1.0.0');
    await expect(writeReport(demo.h.rt.deps.ledger, 'dmeo', 'v1.3.0')).rejects.toThrow('--service dmeo: the ledger has no release of dmeo; services with releases: demo');
    expect(() => readFileSync(join(dir, 'none.html'))).toThrow(/ENOENT/);
  });
});
