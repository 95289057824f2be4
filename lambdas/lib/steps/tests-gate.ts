import { decide } from '../decisions.js';
import { TestsFailed, TestsPending } from '../errors.js';
import { manifestKey, testReportKey } from '../keys.js';
import { parseManifest, parseTestReport } from '../manifest.js';
import type { Deps, ObjectReader } from '../ports.js';
import { readJson } from '../store-json.js';
import type { ReleaseContext, SuiteResult } from '../types.js';

export interface TestsGateOutput {
  commit: string;
  suites: SuiteResult[];
}


/**
 * Step 3: the CI results for the release's commit must exist and be green. Missing results
 * are `TestsPending` (the state machine waits and asks again, within a bound); red is `TestsFailed`.
 */
export type TestsGateInput = Pick<ReleaseContext, 'release' | 'service'>;

export async function testsGate(
  ctx: TestsGateInput,
  deps: Pick<Deps, 'locations' | 'ledger' | 'clock'> & { store: ObjectReader },
): Promise<TestsGateOutput> {
  const { release } = ctx;
  const bucket = deps.locations.artifactsBucket;
  let commit = release.commit;
  if (!commit) {
    const key = manifestKey(release.service, release.version);
    const raw = await readJson(deps.store, { bucket, key });
    if (raw === undefined) throw new TestsPending(`no commit given and no build manifest yet at s3://${bucket}/${key}, so there is no commit to look up test results for`);
    commit = parseManifest(raw.ok ? raw.value : null, `s3://${bucket}/${key}`).commit;
  }

  const key = testReportKey(release.service, commit);
  const raw = await readJson(deps.store, { bucket, key });
  if (raw === undefined) throw new TestsPending(`no CI results yet for ${release.service} at commit ${commit.slice(0, 12)} (s3://${bucket}/${key})`);
  const report = raw.ok ? parseTestReport(raw.value) : 'not valid JSON';
  if (typeof report === 'string') {
    await decide(deps, release, { step: 'tests-gate', verdict: 'failed', summary: `CI results are malformed: ${report}`, evidence: { key } });
    throw new TestsFailed(`CI results at s3://${bucket}/${key} are malformed: ${report}`);
  }

  const required = ctx.service.tests.requiredSuites;
  const missing = required.filter((name) => !report.suites.some((s) => s.name === name));
  const red = report.suites.filter((s) => s.failed > 0);
  const evidence = { commit, key, finishedAt: report.finishedAt, suites: report.suites, required };
  if (red.length > 0) {
    const summary = `tests failed at ${commit.slice(0, 12)}: ${red.map((s) => `${s.name} (${s.failed} failed)`).join(', ')}`;
    await decide(deps, release, { step: 'tests-gate', verdict: 'failed', summary, evidence });
    throw new TestsFailed(summary);
  }
  if (missing.length > 0) throw new TestsPending(`required suites have not reported yet for ${commit.slice(0, 12)}: ${missing.join(', ')}`);
  if (report.suites.length === 0) throw new TestsPending(`CI results for ${commit.slice(0, 12)} list no suites yet`);

  const total = report.suites.reduce((n, s) => n + s.passed, 0);
  await decide(deps, release, { step: 'tests-gate', verdict: 'passed', summary: `${report.suites.length} suites green (${total} tests) at ${commit.slice(0, 12)}`, evidence });
  return { commit, suites: report.suites };
}
