import { decide } from '../decisions.js';
import { buildFileKey, environmentFileKey, environmentManifestKey, environmentPrefix, manifestKey } from '../keys.js';
import type { Deps } from '../ports.js';
import type { ReleaseRequest, ResolvedArtifact } from '../types.js';
import { verifyFiles } from './resolve-artifact.js';

export interface PromoteInput {
  release: ReleaseRequest;
  environment: { name: string };
  artifact: ResolvedArtifact;
}

export interface Promoted {
  bucket: string;
  prefix: string;
}

/** Step 6b: copy the same bytes into the environment (never a rebuild), then verify the copies. */
export async function promote(input: PromoteInput, deps: Pick<Deps, 'store' | 'locations' | 'ledger' | 'clock'>): Promise<Promoted> {
  const { release, artifact } = input;
  const env = input.environment.name;
  const from = deps.locations.artifactsBucket;
  const to = deps.locations.environmentsBucket;
  for (const file of artifact.files) {
    await deps.store.copy(
      { bucket: from, key: buildFileKey(release.service, release.version, file.path) },
      { bucket: to, key: environmentFileKey(env, release.service, release.version, file.path) },
    );
  }
  await deps.store.copy({ bucket: from, key: manifestKey(release.service, release.version) }, { bucket: to, key: environmentManifestKey(env, release.service, release.version) });
  await verifyFiles(deps.store, to, artifact.files, (p) => environmentFileKey(env, release.service, release.version, p), `promoted copy in ${env}`);

  const prefix = environmentPrefix(env, release.service, release.version);
  await decide(deps, release, {
    step: 'promote',
    environment: env,
    verdict: 'passed',
    summary: `copied ${artifact.files.length} files (${artifact.totalBytes} bytes) to s3://${to}/${prefix} and verified their SHA-256${artifact.config ? ` (config release: the code of ${artifact.config.base}, its own manifest)` : ''}`,
    evidence: { from: `s3://${from}/${artifact.manifestKey}`, to: `s3://${to}/${prefix}` },
  });
  return { bucket: to, prefix };
}
