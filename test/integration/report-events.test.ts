import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_RUNS } from '../../local/runtime/step-runs.js';
import { LOCAL_LOCATIONS } from '../../local/runtime/runtime.js';
import type { RecordOutcomeInput } from '../../lambdas/lib/steps/record-outcome.js';
import { BAD_DIR, demoConfig, startHarness, type Harness } from '../support/harness.js';

/**
 * The release report's URI in the outcome's events, through the real release.asl.json: a rolled
 * back release's report is in the artifacts bucket and its event names it; when record-outcome
 * itself fails, Release Failed still goes out (with no report) and the release ends with its own
 * error, not a runtime error of the state machine.
 */

const UNRECORDED = 'unrecorded';
let h: Harness;
beforeAll(async () => {
  // record-outcome fails for one service: the runtime takes each step's core from STEP_RUNS when it starts.
  const record = STEP_RUNS['record-outcome'];
  STEP_RUNS['record-outcome'] = async (input, deps) => {
    if ((input as RecordOutcomeInput).release.service === UNRECORDED) throw Object.assign(new Error('the ledger table is gone'), { name: 'ResourceNotFoundException' });
    return record(input, deps);
  };
  h = await startHarness({ config: demoConfig({ services: ['rolled-back', UNRECORDED] }) });
}, 60_000);
afterAll(async () => h?.close());

const outcomeEvents = (service: string) =>
  h.rt.emitted.filter((e) => (e.Detail as { service?: string }).service === service && /^Release (Succeeded|Failed|Rolled Back)$/.test(e.DetailType)).map((e) => [e.DetailType, (e.Detail as { version: string }).version, (e.Detail as { report?: unknown }).report]);

describe('the outcome events carry the report', () => {
  it('Release Rolled Back names the report record-outcome wrote to the artifacts bucket', async () => {
    const service = 'rolled-back';
    await h.publish('v1.0.0', { service });
    expect((await h.rt.startExecution('release', { service, version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    await h.publish('v1.1.0', { service, dir: BAD_DIR });
    const s = await h.rt.startExecution('release', { service, version: 'v1.1.0' }).done;
    expect([s.status, s.error]).toEqual(['FAILED', 'SmokeTestFailed']);
    expect(outcomeEvents(service)).toEqual([
      ['Release Succeeded', 'v1.0.0', `s3://tagflow-artifacts/reports/${service}/v1.0.0.html`],
      ['Release Rolled Back', 'v1.1.0', `s3://tagflow-artifacts/reports/${service}/v1.1.0.html`],
    ]);
    const html = Buffer.from((await h.rt.deps.store.get({ bucket: LOCAL_LOCATIONS.artifactsBucket, key: `reports/${service}/v1.1.0.html` }))!).toString('utf8');
    expect(html).toContain('<span class="verdict rolled-back">Rolled back</span>');
    expect(html).toContain('SmokeTestFailed in staging');
  });

  it('when record-outcome fails, Release Failed goes out without a report and the release ends with its own error', async () => {
    await h.publish('v1.1.0', { service: UNRECORDED, dir: BAD_DIR });
    const s = await h.rt.startExecution('release', { service: UNRECORDED, version: 'v1.1.0' }).done;
    expect([s.status, s.error]).toEqual(['FAILED', 'SmokeTestFailed']);
    expect(outcomeEvents(UNRECORDED)).toEqual([['Release Failed', 'v1.1.0', null]]);
  });
});
