import { decide } from '../decisions.js';
import { ArtifactIntegrityError, ArtifactNotFound } from '../errors.js';
import { buildFileKey, manifestKey } from '../keys.js';
import { describeMismatch, digest, parseManifest, resolvedFrom } from '../manifest.js';
import { readJson } from '../store-json.js';
import type { Deps, ObjectReader } from '../ports.js';
import type { ManifestFile, ReleaseContext, ResolvedArtifact } from '../types.js';

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

  try {
    await verifyFiles(deps.store, bucket, manifest.files, (p) => buildFileKey(release.service, release.version, p), 'build');
  } catch (err) {
    if (err instanceof ArtifactIntegrityError) await fail(err.message);
    throw err;
  }

  const artifact = resolvedFrom(manifest, key, release.imageDigest);
  await decide(deps, release, {
    step: 'resolve-artifact',
    verdict: 'passed',
    summary: `${manifest.files.length} files (${artifact.totalBytes} bytes) match their SHA-256 in ${where}`,
    evidence: { manifest: where, commit: manifest.commit, build: manifest.build, imageDigest: artifact.imageDigest },
  });
  return artifact;
}
