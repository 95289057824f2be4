import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../lambdas/adapters/json-logger.js';
import { parseConfig } from '../../lambdas/lib/config.js';
import { manifestKey, testReportKey } from '../../lambdas/lib/keys.js';
import type { ApprovalKey, ApprovalRecord, Ledger } from '../../lambdas/lib/ports.js';
import { checkPolicy } from '../../lambdas/lib/steps/check-policy.js';
import type { Decision, EnvironmentState } from '../../lambdas/lib/types.js';

/**
 * The policy step with the hotfix check (hotfix-order.ts) in front of the window check: which
 * approval it asks for, and when it refuses, for v1.100.1 of `api` while v1.101.0 runs in
 * staging and prod runs v1.100.0. Real parsers, a store of JSON documents, a ledger of states.
 */

const sha = (name: string) => Buffer.from(name).toString('hex').padEnd(40, 'e').slice(0, 40);
const FIX = sha('fix');
const PATCH = sha('patch');
const MONDAY_10 = '2026-06-01T08:00:00Z'; // 10:00 in Berlin: prod is open
const SATURDAY = '2026-06-06T08:00:00Z'; // prod is closed

function run(opts: { now?: string; approvers?: string[]; emergency?: boolean; newerCommits?: string[]; prodRuns?: string; version?: string; noPolicy?: boolean; earlier?: Partial<ApprovalRecord> }) {
  const config = parseConfig({
    services: { api: { environments: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }] } },
    ...(opts.noPolicy
      ? {}
      : {
          policy: {
            timezone: 'Europe/Berlin',
            windows: [{ environments: ['prod'], days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '16:00' }],
            approvers: opts.approvers ?? ['alice', 'bob'],
            approvalTimeoutHours: 2,
          },
        }),
  });
  const version = opts.version ?? 'v1.100.1';
  const file = [{ path: 'app.mjs', size: 1, sha256: 'a'.repeat(64) }];
  const docs = new Map<string, unknown>([
    [manifestKey('api', version), { service: 'api', version, commit: PATCH, createdAt: MONDAY_10, files: file }],
    [testReportKey('api', PATCH), { service: 'api', commit: PATCH, finishedAt: MONDAY_10, suites: [{ name: 'unit', passed: 1, failed: 0 }], fixes: [FIX] }],
    [manifestKey('api', 'v1.101.0'), { service: 'api', version: 'v1.101.0', commit: sha('newer'), createdAt: MONDAY_10, files: file, ...(opts.newerCommits ? { commits: opts.newerCommits } : {}) }],
  ]);
  const state = (environment: string, v: string): EnvironmentState => ({ service: 'api', environment, version: v, healthy: true, goodVersions: [v], refs: {}, revision: 1 });
  const decisions: Decision[] = [];
  const deps = {
    config: async () => config,
    ledger: {
      recordDecision: async (d: Decision) => void decisions.push(d),
      freezes: async () => [],
      environments: async () => [state('staging', 'v1.101.0'), state('prod', opts.prodRuns ?? 'v1.100.0')],
    } as unknown as Ledger,
    store: {
      get: async ({ key }: { key: string }) => (docs.has(key) ? new TextEncoder().encode(JSON.stringify(docs.get(key))) : undefined),
      stream: async () => undefined,
    },
    locations: { artifactsBucket: 'artifacts', environmentsBucket: 'environments' },
    // An acknowledgement given in dev earlier, when the test says so.
    approvals: {
      get: async (k: ApprovalKey) =>
        opts.earlier && k.environment === 'dev' && k.kind === 'hotfix-order'
          ? ({ service: 'api', version, environment: 'dev', kind: 'hotfix-order', executionId: 'x', status: 'approved', approvals: [{ approver: 'bob', at: MONDAY_10 }], reason: '', ...opts.earlier } as ApprovalRecord)
          : undefined,
    },
    clock: { now: () => new Date(opts.now ?? MONDAY_10), sleep: async () => {} },
    log: silentLogger,
  };
  const release = { service: 'api', version, trigger: { kind: 'manual' as const }, ...(opts.emergency ? { emergency: { reason: 'payments down' } } : {}) };
  const result = checkPolicy({ releaseId: `api@${version}`, executionId: 'x', release, stage: { environment: { name: 'prod', smoke: [], alarms: [] } } }, deps);
  return { result, decisions };
}

describe('check-policy and the hotfix order', () => {
  it('goes when the newer line lists the fix, recording the evidence', async () => {
    const { result, decisions } = run({ newerCommits: [sha('newer'), FIX] });
    expect(await result).toMatchObject({ action: 'go' });
    expect(decisions.find((d) => d.step === 'hotfix-order')).toMatchObject({ verdict: 'passed', evidence: { lines: [{ version: 'v1.101.0', environments: ['staging'] }], fix: { commits: [FIX], source: 'fixes' } } });
  });

  it('asks one acknowledgement (kind hotfix-order) when the newer line lacks the fix, or lists no commits', async () => {
    const lacks = await run({ newerCommits: [sha('newer')] }).result;
    expect(lacks).toMatchObject({ action: 'approve', kind: 'hotfix-order', approvalTimeoutSeconds: 7200 });
    expect(lacks.reason).toContain(`v1.101.0 lacks ${FIX.slice(0, 12)} (staging)`);
    expect(lacks.reason).toContain('One of alice, bob must acknowledge it within 2 h');
    const unknown = await run({}).result;
    expect(unknown).toMatchObject({ action: 'approve', kind: 'hotfix-order' });
    expect(unknown.reason).toContain('cannot tell whether v1.101.0 (staging) holds it: its build manifest lists no commits');
  });

  it('does not ask again in prod what was acknowledged in dev by this execution for the same evidence', async () => {
    const evidence = `v1.101.0 lacks ${FIX.slice(0, 12)} (staging)`;
    const { result, decisions } = run({ newerCommits: [sha('newer')], earlier: { reason: `${evidence}. Checked the fix CI reported for v1.100.1 (${FIX.slice(0, 12)}); when that line reaches prod the fix would be gone again. One of alice, bob must acknowledge it within 2 h` } });
    expect(await result).toMatchObject({ action: 'go' });
    expect(decisions.find((d) => d.step === 'hotfix-order')!.summary).toMatch(/acknowledged by bob in dev$/);
    // Another execution's acknowledgement, or one of other evidence, is not this one's.
    expect(await run({ newerCommits: [sha('newer')], earlier: { executionId: 'y', reason: evidence } }).result).toMatchObject({ action: 'approve', kind: 'hotfix-order' });
    expect(await run({ newerCommits: [sha('newer')], earlier: { reason: 'v1.101.0 lacks 0123456789ab (staging)' } }).result).toMatchObject({ action: 'approve', kind: 'hotfix-order' });
  });

  it('asks the acknowledgement even without a policy, and refuses when nobody could give it', async () => {
    await expect(run({ noPolicy: true }).result).rejects.toMatchObject({ name: 'VersionRegression', message: expect.stringContaining('Nobody can acknowledge it: policy.approvers is empty') });
  });

  it("folds the evidence into an emergency's request when the window is closed: its two approvers acknowledge it too", async () => {
    const check = await run({ now: SATURDAY, emergency: true, newerCommits: [sha('newer')] }).result;
    expect(check).toMatchObject({ action: 'approve', kind: 'emergency' });
    expect(check.reason).toContain(`2 different approvers of alice, bob must approve within 2 h; they also acknowledge that v1.101.0 lacks ${FIX.slice(0, 12)}`);
  });

  it('waits for a closed window before asking anything of the hotfix order', async () => {
    expect(await run({ now: SATURDAY, newerCommits: [sha('newer')] }).result).toMatchObject({ action: 'wait' });
  });

  it('refuses a version older than prod runs; an emergency asks its two approvers even in an open window, unless there are not two', async () => {
    await expect(run({ prodRuns: 'v1.100.2', newerCommits: [FIX] }).result).rejects.toMatchObject({
      name: 'VersionRegression',
      message: expect.stringContaining('api v1.100.1 is refused in prod: prod runs v1.100.2, a later patch of the same line 1.100'),
    });
    const forced = await run({ prodRuns: 'v1.100.2', newerCommits: [FIX], emergency: true }).result;
    expect(forced).toMatchObject({ action: 'approve', kind: 'emergency' });
    expect(forced.reason).toContain('prod runs v1.100.2, a later patch of the same line 1.100');
    await expect(run({ prodRuns: 'v1.100.2', emergency: true, approvers: [] }).result).rejects.toMatchObject({ name: 'VersionRegression', message: expect.stringContaining('no emergency override is possible') });
  });
});
