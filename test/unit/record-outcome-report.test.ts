import { describe, expect, it } from 'vitest';
import type { Logger, ObjectLocation, ObjectStore } from '../../lambdas/lib/ports.js';
import { recordOutcome, type RecordOutcomeInput } from '../../lambdas/lib/steps/record-outcome.js';
import type { Decision, OutcomeRecord, ReleaseRecord } from '../../lambdas/lib/types.js';

/**
 * record-outcome writes the release's report to the artifacts bucket after the outcome, and
 * returns its S3 URI for the outcome's event; a report that cannot be written is logged and
 * never fails the outcome.
 */

const release: ReleaseRecord = {
  releaseId: 'api@v1.4.0',
  service: 'api',
  version: 'v1.4.0',
  trigger: { kind: 'manual' },
  executionId: 'exec-1',
  startedAt: '2026-11-30T10:00:00.000Z',
  plan: ['dev'],
  configSnapshot: '{}',
};
const decisions: Decision[] = [
  { releaseId: 'api@v1.4.0', service: 'api', version: 'v1.4.0', at: '2026-11-30T10:00:05.000Z', step: 'record-stage', environment: 'dev', verdict: 'passed', summary: 'dev runs v1.4.0' },
];
const input: RecordOutcomeInput = { releaseId: 'api@v1.4.0', executionId: 'exec-1', release: { service: 'api', version: 'v1.4.0', trigger: { kind: 'manual' } }, plan: [{ name: 'dev' }] };

function world(put: ObjectStore['put']) {
  const outcomes: OutcomeRecord[] = [];
  const logged: { message: string; data?: Record<string, unknown> }[] = [];
  const log: Logger = { info: () => {}, warn: () => {}, error: (message, data) => void logged.push({ message, ...(data ? { data } : {}) }) };
  const deps = {
    ledger: {
      getRelease: async () => release,
      getOutcome: async () => outcomes.at(-1),
      decisions: async () => decisions,
      recordOutcome: async (o: OutcomeRecord) => (outcomes.push(o), true),
    },
    clock: { now: () => new Date('2026-11-30T10:00:06.000Z'), sleep: async () => {} },
    store: { put } as ObjectStore,
    locations: { artifactsBucket: 'acme-artifacts', environmentsBucket: 'acme-envs' },
    log,
  } as unknown as Parameters<typeof recordOutcome>[1];
  return { deps, outcomes, logged };
}

describe('record-outcome writes the release report', () => {
  it('puts it at reports/<service>/<version>.html as text/html, after the outcome, and returns its S3 URI', async () => {
    const puts: { loc: ObjectLocation; body: string; contentType?: string | undefined }[] = [];
    const w = world(async (loc, body, contentType) => void puts.push({ loc, body: String(body), contentType }));
    const out = await recordOutcome(input, w.deps);
    expect(out).toEqual({ outcome: 'succeeded', reason: 'v1.4.0 is live in dev', environments: ['dev'], report: 's3://acme-artifacts/reports/api/v1.4.0.html', notes: { count: 0, summary: 'no changes listed' } });
    expect(puts).toHaveLength(1);
    expect(puts[0]!.loc).toEqual({ bucket: 'acme-artifacts', key: 'reports/api/v1.4.0.html' });
    expect(puts[0]!.contentType).toBe('text/html; charset=utf-8');
    // Rendered after the outcome was written: the page says it.
    expect(puts[0]!.body).toContain('<span class="verdict succeeded">Succeeded</span>');
    expect(puts[0]!.body).toContain('v1.4.0 is live in dev');
    expect(w.logged).toEqual([]);
  });

  it('records the outcome all the same when the store refuses the report, says so in the log, and returns no URI', async () => {
    const w = world(async () => {
      throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    });
    const out = await recordOutcome(input, w.deps);
    expect(out).toMatchObject({ outcome: 'succeeded', report: null });
    expect(w.outcomes).toHaveLength(1);
    expect(w.outcomes[0]).toMatchObject({ outcome: 'succeeded', service: 'api', version: 'v1.4.0' });
    expect(w.logged).toEqual([{ message: 'release report not written; the outcome is recorded', data: { service: 'api', version: 'v1.4.0', error: 'AccessDenied', reason: 'Access Denied' } }]);
  });

  it('a failed outcome is recorded too when rendering itself fails (a ledger read that throws)', async () => {
    const w = world(async () => {});
    (w.deps.ledger as unknown as { getRelease: () => Promise<unknown> }).getRelease = async () => {
      throw new Error('ProvisionedThroughputExceededException');
    };
    const out = await recordOutcome({ ...input, failure: { Error: 'SmokeTestFailed', Cause: JSON.stringify({ errorMessage: 'GET /health answered 500' }) } }, w.deps);
    expect(out).toMatchObject({ outcome: 'failed', reason: 'SmokeTestFailed: GET /health answered 500', report: null });
    expect(w.outcomes.map((o) => o.outcome)).toEqual(['failed']);
    expect(w.logged[0]!.data).toMatchObject({ reason: 'ProvisionedThroughputExceededException' });
  });
});

describe('record-outcome says where a dot release was passed by', () => {
  const skipped = (environment: string): Decision => ({ releaseId: 'api@v1.4.0', service: 'api', version: 'v1.4.0', at: '2026-11-30T10:00:01.000Z', step: 'hotfix-order', environment, verdict: 'skipped', summary: `${environment} runs v1.5.0` });
  const withDecisions = (list: Decision[]) => {
    const w = world(async () => {});
    (w.deps.ledger as unknown as { decisions: () => Promise<Decision[]> }).decisions = async () => list;
    return w;
  };

  it('names the environments passed by beside those it reached', async () => {
    const w = withDecisions([skipped('staging'), ...decisions]);
    expect((await recordOutcome(input, w.deps)).reason).toBe('v1.4.0 is live in dev; passed by staging, which run a newer line');
  });

  it('says it was deployed nowhere when every environment of its plan was passed by', async () => {
    const w = withDecisions([skipped('dev'), skipped('staging')]);
    expect((await recordOutcome(input, w.deps)).reason).toBe("v1.4.0 was deployed nowhere: passed by dev, staging, which run a newer line, and no environment it is for was in this release's plan");
  });
});
