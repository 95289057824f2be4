import { decide } from '../decisions.js';
import { describeEnv, sameCodeProblems } from '../config-release.js';
import { ArtifactIntegrityError, ArtifactNotFound, errorMessage } from '../errors.js';
import { buildFileKey, manifestKey, manifestSignatureKey } from '../keys.js';
import { describeMismatch, digest, parseManifest, resolvedFrom } from '../manifest.js';
import { readJson } from '../store-json.js';
import type { Deps, ObjectReader } from '../ports.js';
import type { BuildManifest, ManifestFile, ReleaseContext, ResolvedArtifact } from '../types.js';
import { supplyChainPolicy, type SupplyChainConfig } from '../supply-chain/config.js';
import { type PublicKeySource, SignatureRefused, trustedKey, type TrustedKey, verifySignedManifest } from '../supply-chain/signed-manifest.js';

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
export type ResolveArtifactInput = Pick<ReleaseContext, 'release'> & { tests?: { commit: string }; service?: { supplyChain?: SupplyChainConfig | undefined } };

/** What verifies a build's signature: absent, only a pinned supplyChain.publicKey can. */
export interface SigningKeyDeps {
  signingKey?: PublicKeySource;
}

/** The artifact a signed build resolves to: Promote re-verifies the copy with the same key. */
export type SignedArtifact = ResolvedArtifact & { signature?: { keyid: string; source: string; publicKey?: string } };

export const SIGNATURE_REMEDY = 'Do not release this build: publish it again from CI, which signs the manifest (tagflow publish-build signs with the stack\'s SigningKeyArn, or locally with the key of tagflow local keygen)';

export async function resolveArtifact(
  ctx: ResolveArtifactInput,
  deps: Pick<Deps, 'locations' | 'ledger' | 'clock'> & { store: ObjectReader } & SigningKeyDeps,
): Promise<SignedArtifact> {
  const { release } = ctx;
  const bucket = deps.locations.artifactsBucket;
  const key = manifestKey(release.service, release.version);
  const where = `s3://${bucket}/${key}`;
  const bytes = await deps.store.get({ bucket, key });
  if (!bytes) throw new ArtifactNotFound(`no build manifest for ${release.service} ${release.version} at ${where}; CI must upload the build before it can be released`);
  // With signatures required, nothing in the manifest is read before its signature is checked.
  const policy = supplyChainPolicy(undefined, ctx.service?.supplyChain);
  const signed = policy.signatures === 'required' ? await verifyBuildSignature(bytes, ctx, deps, policy.publicKey) : undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(signed?.payload ?? bytes));
  } catch {
    throw new ArtifactIntegrityError(`build manifest ${where} is not valid JSON`);
  }
  const manifest = parseManifest(value, where);

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

  const artifact: SignedArtifact = resolvedFrom(manifest, key, release.imageDigest);
  const files = `${manifest.files.length} files (${artifact.totalBytes} bytes) match their SHA-256 in ${where}`;
  const signedBy = signed ? `; manifest signed by key ${signed.key.keyid.slice(0, 16)} (${signed.key.source})` : '';
  await decide(deps, release, {
    step: 'resolve-artifact',
    verdict: 'passed',
    summary: (artifact.config ? `config release: the code of ${artifact.config.base} with ${describeEnv(artifact.config.env)}; ${files}` : files) + signedBy,
    evidence: {
      manifest: where,
      commit: manifest.commit,
      build: manifest.build,
      imageDigest: artifact.imageDigest,
      ...(artifact.config ? { kind: 'config', base: artifact.config.base, env: artifact.config.env } : {}),
      ...(signed ? { signature: { keyid: signed.key.keyid, key: signed.key.source, envelope: signed.envelope } } : {}),
    },
  });
  if (signed) artifact.signature = { keyid: signed.key.keyid, source: signed.key.source, ...(policy.publicKey ? { publicKey: policy.publicKey } : {}) };
  return artifact;
}

/** The build's envelope verified with the pipeline's key; a refusal is recorded, then thrown. */
async function verifyBuildSignature(
  manifestBytes: Uint8Array,
  ctx: ResolveArtifactInput,
  deps: Pick<Deps, 'locations' | 'ledger' | 'clock'> & { store: ObjectReader } & SigningKeyDeps,
  pinned: string | undefined,
): Promise<{ payload: Buffer; key: TrustedKey; envelope: string }> {
  const { release } = ctx;
  const bucket = deps.locations.artifactsBucket;
  const manifest = `s3://${bucket}/${manifestKey(release.service, release.version)}`;
  const envelopeKey = manifestSignatureKey(release.service, release.version);
  const envelope = `s3://${bucket}/${envelopeKey}`;
  let key: TrustedKey | undefined;
  try {
    key = await trustedKey({ ...(pinned ? { publicKey: pinned } : {}) }, deps.signingKey, release.service);
    const payload = verifySignedManifest(manifestBytes, await deps.store.get({ bucket, key: envelopeKey }), key, { manifest, envelope, remedy: SIGNATURE_REMEDY });
    return { payload, key, envelope };
  } catch (err) {
    if (err instanceof SignatureRefused || (err instanceof Error && err.name === 'ManifestSignatureInvalid')) {
      await decide(deps, release, {
        step: 'resolve-artifact',
        verdict: 'failed',
        summary: err.message,
        evidence: { manifest, signature: envelope, ...(key ? { keyid: key.keyid, key: key.source } : {}), ...(err instanceof SignatureRefused ? { problem: err.problem, signedBy: err.signedBy } : {}) },
      });
    }
    throw err;
  }
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
