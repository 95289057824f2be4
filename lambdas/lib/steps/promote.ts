import { decide } from '../decisions.js';
import { buildFileKey, environmentFileKey, environmentManifestKey, environmentPrefix, environmentSignatureKey, manifestKey, manifestSignatureKey } from '../keys.js';
import type { Deps } from '../ports.js';
import type { ReleaseRequest } from '../types.js';
import { ManifestSignatureInvalid, SignatureRefused, trustedKeyOf, type TrustedKey, verifySignedManifest } from '../supply-chain/signed-manifest.js';
import { SIGNATURE_REMEDY, type SignedArtifact, type SigningKeyDeps, verifyFiles } from './resolve-artifact.js';

export interface PromoteInput {
  release: ReleaseRequest;
  environment: { name: string };
  artifact: SignedArtifact;
}

export interface Promoted {
  bucket: string;
  prefix: string;
}

/** Step 6b: copy the same bytes into the environment (never a rebuild), then verify the copies. */
export async function promote(input: PromoteInput, deps: Pick<Deps, 'store' | 'locations' | 'ledger' | 'clock'> & SigningKeyDeps): Promise<Promoted> {
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
  const signature = artifact.signature ? await verifyPromotedSignature(input, deps) : undefined;
  await verifyFiles(deps.store, to, artifact.files, (p) => environmentFileKey(env, release.service, release.version, p), `promoted copy in ${env}`);

  const prefix = environmentPrefix(env, release.service, release.version);
  await decide(deps, release, {
    step: 'promote',
    environment: env,
    verdict: 'passed',
    summary: `copied ${artifact.files.length} files (${artifact.totalBytes} bytes) to s3://${to}/${prefix} and verified their SHA-256${artifact.config ? ` (config release: the code of ${artifact.config.base}, its own manifest)` : ''}${signature ? `; the copied manifest's signature verifies with key ${signature.keyid.slice(0, 16)}` : ''}`,
    evidence: { from: `s3://${from}/${artifact.manifestKey}`, to: `s3://${to}/${prefix}`, ...(signature ? { signature: { keyid: signature.keyid, key: signature.source } } : {}) },
  });
  return { bucket: to, prefix };
}

/**
 * The envelope is copied beside the manifest, and the copies are verified as Resolve artifact
 * verified the build's: what the environment holds is what CI signed. A refusal is recorded.
 */
async function verifyPromotedSignature(input: PromoteInput, deps: Pick<Deps, 'store' | 'locations' | 'ledger' | 'clock'> & SigningKeyDeps): Promise<TrustedKey> {
  const { release, artifact } = input;
  const env = input.environment.name;
  const from = deps.locations.artifactsBucket;
  const to = deps.locations.environmentsBucket;
  const manifestAt = environmentManifestKey(env, release.service, release.version);
  const envelopeAt = environmentSignatureKey(env, release.service, release.version);
  const at = { manifest: `s3://${to}/${manifestAt}`, envelope: `s3://${to}/${envelopeAt}`, remedy: SIGNATURE_REMEDY };
  let key: TrustedKey | undefined;
  try {
    await deps.store.copy({ bucket: from, key: manifestSignatureKey(release.service, release.version) }, { bucket: to, key: envelopeAt });
    const expected = artifact.signature!;
    key = expected.publicKey ? trustedKeyOf(expected.publicKey, expected.source) : await deps.signingKey?.trusted();
    if (!key) throw new ManifestSignatureInvalid(`${at.manifest}: the build was verified with ${expected.source}, but this step has no key to verify the promoted copy with (the stack passes SIGNING_KEY_ARN to promote)`);
    if (key.keyid !== expected.keyid)
      throw new ManifestSignatureInvalid(`${at.manifest}: the build was verified with key ${expected.keyid.slice(0, 16)}, but the pipeline's signing key is now ${key.keyid.slice(0, 16)} (${key.source}); start the release again so it is resolved with the current key`);
    verifySignedManifest((await deps.store.get({ bucket: to, key: manifestAt })) ?? new Uint8Array(), await deps.store.get({ bucket: to, key: envelopeAt }), key, at);
    return key;
  } catch (err) {
    if (err instanceof ManifestSignatureInvalid) {
      await decide(deps, release, {
        step: 'promote',
        environment: env,
        verdict: 'failed',
        summary: `promoted copy in ${env}: ${err.message}`,
        evidence: { manifest: at.manifest, signature: at.envelope, ...(key ? { keyid: key.keyid, key: key.source } : {}), ...(err instanceof SignatureRefused ? { problem: err.problem } : {}) },
      });
    }
    throw err;
  }
}
