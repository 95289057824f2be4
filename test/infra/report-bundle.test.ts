import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/app.js';
import { importInFreshNode } from '../../infra/bundle-handlers.js';
import { ESBUILD_OPTIONS } from '../../infra/bundling.js';
import type { ReleaseData } from '../../lambdas/lib/report/model.js';

/**
 * The report's renderer as record-outcome's Lambda runs it: Observable Plot and linkedom bundled
 * with the options every handler is built with (infra/bundling.ts), then run in a fresh `node`
 * from a folder with no node_modules. test/infra/bundles.test.ts imports the real handler; this
 * renders a canary's charts with the bundled code, which importing alone would not exercise.
 */

let dir: string;
let file: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tagflow-report-bundle-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, `import { renderReport } from ${JSON.stringify(join(PROJECT_ROOT, 'lambdas', 'lib', 'report', 'render.ts'))};\nexport const handler = async (data) => renderReport(data);\n`);
  await build({ ...ESBUILD_OPTIONS, absWorkingDir: PROJECT_ROOT, entryPoints: [entry], outdir: join(dir, 'out'), sourcemap: false });
  file = join(dir, 'out', 'entry.mjs');
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const look = (poll: number, verdict: 'waiting' | 'passed') => ({
  releaseId: 'api@v2.0.0',
  service: 'api',
  version: 'v2.0.0',
  at: new Date(Date.UTC(2026, 10, 30, 10, poll)).toISOString(),
  step: 'judge',
  environment: 'prod',
  verdict,
  summary: `look ${poll}`,
  evidence: {
    weight: 10,
    step: 1,
    poll,
    of: 15,
    counts: { canary: { requests: 40 * poll, errors: 0, slow: poll, slowShift: 2 * poll }, baseline: { requests: 360 * poll, errors: 3 * poll, slow: 9 * poll, slowShift: 18 * poll } },
    judgement: { metrics: [{ metric: 'errors', ratio: 0, interval: [0, 10 / poll], margin: 4, verdict: verdict === 'passed' ? 'pass' : 'inconclusive' }], srm: { expectedShare: 0.1, observedShare: 0.1 } },
  },
});

const data: ReleaseData = {
  release: { releaseId: 'api@v2.0.0', service: 'api', version: 'v2.0.0', trigger: { kind: 'manual' }, executionId: 'x', startedAt: '2026-11-30T10:00:00.000Z', plan: ['prod'], configSnapshot: '{}' },
  outcome: { releaseId: 'api@v2.0.0', service: 'api', version: 'v2.0.0', outcome: 'succeeded', reason: 'live', environments: ['prod'], finishedAt: '2026-11-30T10:05:00.000Z', executionId: 'x' },
  decisions: [look(1, 'waiting'), look(2, 'waiting'), look(3, 'passed')],
};

describe("the report renderer in record-outcome's bundle", () => {
  it('renders a canary report with its charts in a fresh node, from the bundle alone', { timeout: 60_000 }, async () => {
    const r = await importInFreshNode(file, {}, { invoke: data });
    expect(r.error).toBeUndefined();
    const html = (r as { invoked?: unknown }).invoked as string;
    expect(html).toContain('<span class="verdict succeeded">Succeeded</span>');
    // Error rates, requests and slow counts: 2 arms × 3 looks each; the split: 3; the ratio: 3.
    expect(html.match(/<circle/g)).toHaveLength(3 * 6 + 3 + 3);
    expect(html).toContain('passed at 10%');
    // What the renderer adds to the function's code, and what a cold import costs (record-outcome pays both).
    console.log(`report renderer bundle: ${(statSync(file).size / 1024).toFixed(0)} KiB, imported in ${(r as { importMs?: number }).importMs?.toFixed(0)} ms`);
  });
});
