import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliInputError } from '../../local/cli/cli-errors.js';
import { localBackend } from '../../local/cli/local-backend.js';
import { notesForReport, notesLines } from '../../local/cli/notes.js';
import { readReleaseData, renderReport } from '../../lambdas/lib/report/index.js';
import { notifier } from '../../local/cli/notify.js';
import { publishBuild, reportTests } from '../../local/runtime/ci.js';
import { LOCAL_LOCATIONS } from '../../local/runtime/runtime.js';
import type { ChangeEntry } from '../../lambdas/lib/types.js';
import { commitOf, demoConfig, GOOD_DIR, GREEN, startHarness, type Harness } from '../support/harness.js';

/**
 * Issue 16: a release's notes, through the real release.asl.json: the commits its build lists
 * since the previous known-good version of prod, in the report (escaped), in the Release
 * Succeeded event and its notification line (counts only), and from `tagflow notes`.
 */

const SERVICE = 'noted';
const config = demoConfig({ services: [SERVICE] });
let h: Harness;
const lines: string[] = [];
beforeAll(async () => {
  h = await startHarness({ config });
  h.rt.onBusEvent(notifier((line) => lines.push(line)));
}, 60_000);
afterAll(async () => h?.close());

const other = (n: number) => `${n}`.repeat(40);
const v1: ChangeEntry[] = [
  { sha: commitOf('v1.0.0'), subject: 'feat(orders): list orders', author: 'Ada Lovelace', date: '2026-11-02T09:00:00Z' },
  { sha: other(1), subject: 'chore: skeleton', author: 'Ada Lovelace' },
];
const v11: ChangeEntry[] = [
  { sha: commitOf('v1.1.0'), subject: 'fix(orders): escape <script>"x"</script> & quote', author: 'Alan "AT" Turing' },
  { sha: other(2), subject: 'feat!: drop the v0 API' },
  { sha: other(3), subject: 'Update README' },
  ...v1,
];

async function release(version: string, changes: ChangeEntry[]) {
  const commit = commitOf(version);
  await publishBuild(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, { service: SERVICE, version, commit, dir: GOOD_DIR, entry: 'app.mjs', changes });
  await reportTests(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, SERVICE, commit, GREEN);
  const s = await h.rt.startExecution('release', { service: SERVICE, version }).done;
  expect(s.status).toBe('SUCCEEDED');
}

const succeeded = (version: string) => h.rt.emitted.find((e) => e.DetailType === 'Release Succeeded' && (e.Detail as { service: string; version: string }).version === version && (e.Detail as { service: string }).service === SERVICE);

describe('release notes', () => {
  beforeAll(async () => {
    await release('v1.0.0', v1);
    await release('v1.1.0', v11);
  }, 120_000);

  it('Release Succeeded carries the counts, and its notification line appends them', () => {
    expect((succeeded('v1.0.0')?.Detail as { notes: unknown }).notes).toEqual({ count: 2, summary: '2 changes: 1 feat, 1 chore' });
    // Since v1.0.0, prod's known-good version before: v1.0.0's own commits are left out.
    expect((succeeded('v1.1.0')?.Detail as { notes: unknown }).notes).toEqual({ count: 3, summary: '3 changes: 1 breaking, 1 fix, 1 other' });
    expect(lines).toContain(`${SERVICE} v1.1.0 released: v1.1.0 is live in dev, staging, prod (3 changes: 1 breaking, 1 fix, 1 other)`);
  });

  it("the release report lists them by type, commit text escaped", async () => {
    const html = Buffer.from((await h.rt.deps.store.get({ bucket: LOCAL_LOCATIONS.artifactsBucket, key: `reports/${SERVICE}/v1.1.0.html` }))!).toString('utf8');
    const section = html.slice(html.indexOf('<section id="notes">'), html.indexOf('</section>', html.indexOf('<section id="notes">')));
    expect(section).toContain('<h2>Release notes</h2>');
    expect(section).toContain('since v1.0.0, the previous known-good version in prod: 3 changes: 1 breaking, 1 fix, 1 other');
    expect(section).toContain('<strong>orders:</strong> escape &lt;script&gt;&quot;x&quot;&lt;/script&gt; &amp; quote');
    expect(section).toContain('Alan &quot;AT&quot; Turing');
    expect(section).not.toContain('<script>');
    expect([...section.matchAll(/<h3>([^<]+)<\/h3>/g)].map((m) => m[1])).toEqual(['Breaking changes', 'Fixes', 'Other']);
    expect(section).not.toContain('list orders');
  });

  it('tagflow notes prints them as lines or as a GitHub release body', async () => {
    const b = localBackend(h.rt, config, 'tester', LOCAL_LOCATIONS.artifactsBucket);
    const short = (v: string) => commitOf(v).slice(0, 7);
    expect(await notesLines(b, SERVICE, 'v1.1.0')).toEqual([
      `${SERVICE} v1.1.0 since v1.0.0 (known-good in prod): 3 changes: 1 breaking, 1 fix, 1 other`,
      '',
      'Breaking changes:',
      `  - drop the v0 API (feat) (${other(2).slice(0, 7)})`,
      '',
      'Fixes:',
      `  - orders: escape <script>"x"</script> & quote (${short('v1.1.0')}, Alan "AT" Turing)`,
      '',
      'Other:',
      `  - Update README (${other(3).slice(0, 7)})`,
    ]);
    const md = await notesLines(b, SERVICE, 'v1.1.0', { format: 'markdown' });
    expect(md[0]).toBe(`## ${SERVICE} v1.1.0`);
    expect(md).toContain(`- **orders:** escape &lt;script&gt;"x"&lt;/script&gt; &amp; quote (${short('v1.1.0')}, Alan "AT" Turing)`);
    // The first release of the service: every change it lists.
    expect((await notesLines(b, SERVICE, 'v1.0.0'))[0]).toBe(`${SERVICE} v1.0.0: 2 changes: 1 feat, 1 chore`);
  });

  it("tagflow report's page gets the same section from notesForReport, and none for a build it cannot read", async () => {
    const b = localBackend(h.rt, config, 'tester', LOCAL_LOCATIONS.artifactsBucket);
    const notes = await notesForReport(b, SERVICE, 'v1.1.0');
    const html = renderReport({ ...(await readReleaseData(h.rt.deps.ledger, SERVICE, 'v1.1.0'))!, notes });
    expect(html).toContain('<section id="notes"><h2>Release notes</h2><p class="meta">since v1.0.0, the previous known-good version in prod: 3 changes: 1 breaking, 1 fix, 1 other</p>');
    expect(await notesForReport(b, SERVICE, 'v9.9.9')).toBeUndefined();
  });

  it('refuses a bad flag or a version without a build, saying what to do', async () => {
    const b = localBackend(h.rt, config, 'tester', LOCAL_LOCATIONS.artifactsBucket);
    await expect(notesLines(b, SERVICE, 'v1.1.0', { format: 'html' })).rejects.toThrow(new CliInputError('--format html: expected one of text, markdown'));
    await expect(notesLines(b, SERVICE, '1.1.0')).rejects.toThrow(/^--version 1\.1\.0: /);
    await expect(notesLines(b, SERVICE, 'v1.1.0', { environment: 'prd' })).rejects.toThrow(/--environment prd: no such environment; did you mean --environment prod\?/);
    await expect(notesLines(b, SERVICE, 'v9.9.9')).rejects.toThrow(`${SERVICE} v9.9.9 has no release notes: no build manifest at s3://${LOCAL_LOCATIONS.artifactsBucket}/builds/${SERVICE}/v9.9.9/manifest.json; publish the build first (tagflow local publish-build … --changes-file changes.tsv)`);
  });
});
