import { decide } from '../decisions.js';
import { describeEnv, sameCodeProblems } from '../config-release.js';
import { ArtifactIntegrityError, ArtifactNotFound, errorMessage } from '../errors.js';
import { buildFileKey, manifestKey } from '../keys.js';
import { describeMismatch, digest, parseManifest, resolvedFrom } from '../manifest.js';
import { readJson } from '../store-json.js';
import type { Deps, ObjectReader } from '../ports.js';
import type { BuildManifest, ManifestFile, ReleaseContext, ResolvedArtifact } from '../types.js';

/** Reads each file as a stream and checks its size and SHA-256 against the manifest. */
export async function verifyFiles(store: ObjectReader, bucket: string, files: ManifestFile[], keyOf: (path: string) => string, where: string): Promise<void> {
  for (const file of files) {
    const key = keyOf(file.path);
    const stream = await store.stream({ bucket, key });
    if (!stream) throw new ArtifactIntegrityError(`${where}: ${file.path} is listed in the manifest but missing at s3://${bucket}/${key}`);
    const actual = await digest(stream);
    if (actual.sha256 !== file.sha256 || actual.size !== file.size) throw new ArtifactIntegrityError(describeMismatch(file, actual, where));
  }
}

/** Step 4: the build manifest, checked against the release and against the bytes it lists. */
export type ResolveArtifactInput = Pick<ReleaseContext, 'release'> & { tests?: { commit: string } };

export async function resolveArtifact(
  ctx: ResolveArtifactInput,
  deps: Pick<Deps, 'locations' | 'ledger' | 'clock'> & { store: ObjectReader },
): Promise<ResolvedArtifact> {
  const { release } = ctx;
  const bucket = deps.locations.artifactsBucket;
  const key = manifestKey(release.service, release.version);
  const where = `s3://${bucket}/${key}`;
  const raw = await readJson(deps.store, { bucket, key });
  if (!raw) throw new ArtifactNotFound(`no build manifest for ${release.service} ${release.version} at ${where}; CI must upload the build before it can be released`);
  if (!raw.ok) throw new ArtifactIntegrityError(`build manifest ${where} is not valid JSON`);
  const manifest = parseManifest(raw.value, where);

  const fail = async (summary: string): Promise<never> => {
    await decide(deps, release, { step: 'resolve-artifact', verdict: 'failed', summary, evidence: { manifest: where } });
    throw new ArtifactIntegrityError(summary);
  };
  if (manifest.service !== release.service || manifest.version !== release.version)
    await fail(`${where} describes ${manifest.service} ${manifest.version}, not ${release.service} ${release.version}`);
  const expectedCommit = release.commit ?? ctx.tests?.commit;
  if (expectedCommit && manifest.commit !== expectedCommit)
    await fail(`the build was made from commit ${manifest.commit.slice(0, 12)} but the release is for ${expectedCommit.slice(0, 12)}`);
  if (release.commitPrefix && !manifest.commit.startsWith(release.commitPrefix))
    await fail(`the build id names commit ${release.commitPrefix} but the build was made from commit ${manifest.commit.slice(0, 12)}`);
  if (release.imageDigest && manifest.imageDigest && manifest.imageDigest !== release.imageDigest)
    await fail(`the manifest's image digest ${manifest.imageDigest} differs from the pushed image ${release.imageDigest}`);

  if (manifest.kind === 'config') await checkBase(manifest, deps, fail);

  try {
    await verifyFiles(deps.store, bucket, manifest.files, (p) => buildFileKey(release.service, release.version, p), 'build');
  } catch (err) {
    if (err instanceof ArtifactIntegrityError) await fail(err.message);
    throw err;
  }

  const artifact = resolvedFrom(manifest, key, release.imageDigest);
  const files = `${manifest.files.length} files (${artifact.totalBytes} bytes) match their SHA-256 in ${where}`;
  await decide(deps, release, {
    step: 'resolve-artifact',
    verdict: 'passed',
    summary: artifact.config ? `config release: the code of ${artifact.config.base} with ${describeEnv(artifact.config.env)}; ${files}` : files,
    evidence: { manifest: where, commit: manifest.commit, build: manifest.build, imageDigest: artifact.imageDigest, ...(artifact.config ? { kind: 'config', base: artifact.config.base, env: artifact.config.env } : {}) },
  });
  return artifact;
}

/**
 * A config release ships its base build's code unchanged: the base's manifest must be there, a
 * code build of the same service, and every one of its files must be in this manifest with the
 * same SHA-256 (the bytes themselves are then verified with the rest).
 */
async function checkBase(manifest: BuildManifest, deps: { locations: Deps['locations']; store: ObjectReader }, fail: (summary: string) => Promise<never>): Promise<void> {
  const bucket = deps.locations.artifactsBucket;
  const base = manifest.base!;
  const key = manifestKey(manifest.service, base);
  const raw = await readJson(deps.store, { bucket, key });
  if (!raw) await fail(`config release ${manifest.version} is based on ${base}, but there is no build manifest for ${base} at s3://${bucket}/${key}`);
  let baseManifest: BuildManifest;
  try {
    baseManifest = parseManifest(raw!.ok ? raw!.value : null, `s3://${bucket}/${key}`);
  } catch (err) {
    return fail(`config release ${manifest.version}: the base build's manifest is unusable: ${errorMessage(err)}`);
  }
  const problems = sameCodeProblems(manifest, baseManifest);
  if (problems.length > 0) await fail(`config release ${manifest.version} does not ship the code of ${base}: ${problems.join('; ')}`);
}
