import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/lib/config.js';
import { environmentManifestKey } from '../../lambdas/lib/keys.js';
import type { DeployRequest, DeployTarget } from '../../lambdas/lib/ports.js';
import { recordOutcome } from '../../lambdas/lib/steps/record-outcome.js';
import { describeRestore, recordFailedRestore, restoreEnvironment, type RestoreDeps } from '../../lambdas/lib/steps/restore.js';
import type { Decision, EnvironmentState, ReleaseRecord } from '../../lambdas/lib/types.js';

/** A restore with the ledger, the promoted copies and the target in memory. */
const DIGEST = `sha256:${'c'.repeat(64)}`;
const config = parseConfig({
  services: {
    api: {
      environments: [
        { name: 'prod', target: { type: 'lambda-alias', functionName: 'api-prod', imageRepository: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/api' } },
      ],
    },
  },
});
const service = config.services.api!;
const environment = service.environments[0]!;

function setup(opts: { manifestDigest?: string; releaseDigest?: string; ref?: string; reuse?: DeployTarget['reuse'] }) {
  let state: EnvironmentState = { service: 'api', environment: 'prod', version: 'v2.0.0', healthy: false, goodVersions: ['v1.0.0'], refs: opts.ref ? { 'v1.0.0': opts.ref } : {}, revision: 3 };
  const manifest = { service: 'api', version: 'v1.0.0', commit: 'a'.repeat(40), createdAt: '2026-11-20T10:00:00Z', files: [{ path: 'sbom.json', size: 2, sha256: 'e'.repeat(64) }], ...(opts.manifestDigest ? { imageDigest: opts.manifestDigest } : {}) };
  const deployed: DeployRequest[] = [];
  const reads: string[] = [];
  const target: DeployTarget = { deploy: async (req) => (deployed.push(req), { ref: '12' }), ...(opts.reuse ? { reuse: opts.reuse } : {}) };
  const decisions: Decision[] = [];
  const deps = {
    ledger: {
      getEnvironment: async () => state,
      putEnvironment: async (next: EnvironmentState) => (state = { ...next, revision: next.revision + 1 }),
      getRelease: async (): Promise<Partial<ReleaseRecord> | undefined> => (opts.releaseDigest ? { service: 'api', version: 'v1.0.0', imageDigest: opts.releaseDigest } : undefined),
      recordDecision: async (d: Decision) => void decisions.push(d),
    },
    locations: { artifactsBucket: 'artifacts', environmentsBucket: 'envs' },
    store: {
      get: async (loc: { bucket: string; key: string }) => (reads.push(loc.key), loc.key === environmentManifestKey('prod', 'api', 'v1.0.0') ? new TextEncoder().encode(JSON.stringify(manifest)) : undefined),
      stream: async () => undefined,
    },
    targets: () => target,
    clock: { now: () => new Date('2026-11-27T12:00:00Z'), sleep: async () => {} },
  } as unknown as RestoreDeps;
  const args = { serviceName: 'api', service, environment, avoid: 'v2.0.0', holder: 'rollback-1', releaseId: 'api#v2.0.0', recordAs: { service: 'api', version: 'v2.0.0' }, reason: 'alarm' };
  return { deps, args, deployed, reads, decisions, state: () => state };
}

describe('restoring an environment', () => {
  it('redeploys an image-packaged version with the digest its release carried when the build manifest names none', async () => {
    const { deps, args, deployed, state } = setup({ releaseDigest: DIGEST });
    await expect(restoreEnvironment(args, deps)).resolves.toMatchObject({ rolledBack: true, from: 'v2.0.0', to: 'v1.0.0' });
    expect(deployed).toHaveLength(1);
    expect(deployed[0]!.artifact.imageDigest).toBe(DIGEST);
    expect(deployed[0]!).not.toHaveProperty('ref');
    expect(state()).toMatchObject({ version: 'v1.0.0', healthy: true, refs: { 'v1.0.0': '12' } });
  });

  it('prefers the build manifest\'s digest', async () => {
    const { deps, args, deployed } = setup({ manifestDigest: DIGEST, releaseDigest: `sha256:${'d'.repeat(64)}` });
    await restoreEnvironment(args, deps);
    expect(deployed[0]).toMatchObject({ artifact: { imageDigest: DIGEST } });
  });

  it('takes back a version the target still holds from its recorded handle, reading no promoted copy', async () => {
    const reused: unknown[] = [];
    const { deps, args, deployed, reads, state } = setup({ ref: '9', reuse: async (req) => (reused.push(req), { ref: req.ref }) });
    await expect(restoreEnvironment(args, deps)).resolves.toMatchObject({ rolledBack: true, to: 'v1.0.0' });
    expect(reused).toEqual([{ service: 'api', environment: 'prod', version: 'v1.0.0', target: environment.target, ref: '9' }]);
    expect(deployed).toEqual([]);
    expect(reads).toEqual([]);
    expect(state()).toMatchObject({ version: 'v1.0.0', healthy: true, refs: { 'v1.0.0': '9' } });
  });

  it('deploys the promoted copy when the target cannot take the version back from its handle', async () => {
    const { deps, args, deployed, reads } = setup({ ref: 'v1.0.0', manifestDigest: DIGEST, reuse: async () => undefined });
    await restoreEnvironment(args, deps);
    expect(reads).toEqual([environmentManifestKey('prod', 'api', 'v1.0.0')]);
    expect(deployed[0]).toMatchObject({ version: 'v1.0.0', artifact: { imageDigest: DIGEST } });
  });
});

describe('how a restore is worded', () => {
  it('says which canary left which environment, and which version has all traffic', () => {
    expect(describeRestore({ environment: 'prod', live: 'v1.0.0', canary: { version: 'v1.2.0', weight: 10 }, to: 'v1.0.0', suspect: 'v1.2.0' })).toBe(
      'canary v1.2.0 removed from prod at 10%; all traffic on v1.0.0',
    );
  });

  it('says a live version was rolled back from one version to another', () => {
    expect(describeRestore({ environment: 'staging', live: 'v1.1.0', to: 'v1.0.0', suspect: 'v1.1.0' })).toBe('rolled staging back from v1.1.0 to v1.0.0');
  });

  it('names both changes when a canary goes and the live version is rolled back too', () => {
    expect(describeRestore({ environment: 'prod', live: 'v1.1.0', canary: { version: 'v1.2.0', weight: 50 }, to: 'v1.0.0', suspect: 'v1.2.0' })).toBe(
      'canary v1.2.0 removed from prod at 50% and prod rolled back from v1.1.0 to v1.0.0; all traffic on v1.0.0',
    );
  });

  it('never says "back from v1.0.0 to v1.0.0": an environment the suspect never took over keeps its version', () => {
    const text = describeRestore({ environment: 'prod', live: 'v1.0.0', to: 'v1.0.0', suspect: 'v1.2.0' });
    expect(text).toBe('prod kept on v1.0.0, which it still served alone (v1.2.0 took none of its traffic); all traffic on v1.0.0');
    expect(text).not.toMatch(/back from (\S+) to \1/);
  });

  it('records a live rollback with its cause', async () => {
    const { deps, args, decisions } = setup({ releaseDigest: DIGEST });
    await expect(restoreEnvironment(args, deps)).resolves.toMatchObject({ summary: 'rolled prod back from v2.0.0 to v1.0.0' });
    expect(decisions.map((d) => d.summary)).toEqual(['rolled prod back from v2.0.0 to v1.0.0 — alarm']);
  });

  it('words a failed canary removal as one, not as a rollback of the live version', async () => {
    const state: EnvironmentState = {
      service: 'api', environment: 'prod', version: 'v1.0.0', healthy: true, goodVersions: ['v1.0.0'], refs: {}, revision: 4,
      canary: { version: 'v1.2.0', ref: '13', weight: 10, stepIndex: 0, stepStartedAt: '2026-11-27T11:50:00Z', polls: 3 },
    };
    const decisions: Decision[] = [];
    const deps = {
      ledger: { getEnvironment: async () => state, putEnvironment: async () => state, recordDecision: async (d: Decision) => void decisions.push(d) },
      clock: { now: () => new Date('2026-11-27T12:00:00Z') },
    } as unknown as Parameters<typeof recordFailedRestore>[1];
    const failed = await recordFailedRestore(
      { serviceName: 'api', environment: 'prod', suspect: 'v1.2.0', toVersion: 'v1.0.0', holder: 'exec-1', recordAs: { service: 'api', version: 'v1.2.0' }, reason: 'CanaryFailed: errors', failure: { Error: 'DependencyUnavailable', Cause: 'S3 down' } },
      deps,
    );
    expect(failed.summary).toMatch(/^removing canary v1\.2\.0 from prod \(all traffic to v1\.0\.0\) failed: DependencyUnavailable: /);
    expect(failed.summary).toContain('prod serves v1.0.0 with canary v1.2.0 at 10%, healthy');
  });

  it('ends a release whose canary was removed with what happened, in the outcome and its event', async () => {
    const decisions: Decision[] = [
      { releaseId: 'api@v1.2.0', service: 'api', version: 'v1.2.0', at: '2026-11-27T11:59:00Z', step: 'judge', environment: 'prod', verdict: 'failed', summary: 'canary v1.2.0 failed' },
      {
        releaseId: 'api@v1.2.0', service: 'api', version: 'v1.2.0', at: '2026-11-27T12:00:00Z', step: 'rollback', environment: 'prod', verdict: 'done',
        summary: 'canary v1.2.0 removed from prod at 10%; all traffic on v1.0.0 — CanaryFailed: canary v1.2.0 failed',
        evidence: { from: 'v1.0.0', canary: { version: 'v1.2.0', weight: 10 }, to: 'v1.0.0' },
      },
    ];
    const recorded: unknown[] = [];
    const deps = {
      ledger: { decisions: async () => decisions, recordOutcome: async (o: unknown) => void recorded.push(o) },
      clock: { now: () => new Date('2026-11-27T12:00:01Z') },
    } as unknown as Parameters<typeof recordOutcome>[1];
    const out = await recordOutcome(
      { releaseId: 'api#v1.2.0', executionId: 'exec-1', release: { service: 'api', version: 'v1.2.0' } as never, plan: [{ name: 'prod' }], failure: { Error: 'CanaryFailed', Cause: JSON.stringify({ errorMessage: 'canary v1.2.0 failed in prod at 10% (look 5/15): errors' }) } },
      deps,
    );
    expect(out).toMatchObject({ outcome: 'rolled-back', reason: 'CanaryFailed in prod: canary v1.2.0 failed in prod at 10% (look 5/15): errors; canary v1.2.0 removed from prod at 10%; all traffic on v1.0.0' });
    expect(out.reason).not.toMatch(/rolled prod back/);
  });
});
