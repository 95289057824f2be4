import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/lib/config.js';
import { environmentManifestKey } from '../../lambdas/lib/keys.js';
import type { DeployRequest, DeployTarget } from '../../lambdas/lib/ports.js';
import { restoreEnvironment, type RestoreDeps } from '../../lambdas/lib/steps/restore.js';
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
  return { deps, args, deployed, reads, state: () => state };
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
