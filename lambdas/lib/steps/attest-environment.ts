import { decide, environmentsReached } from '../decisions.js';
import { errorMessage } from '../errors.js';
import { environmentPrefix, manifestSignatureKey, provenanceKey, sbomKey, verificationSummaryKey } from '../keys.js';
import type { Deps, ObjectStore } from '../ports.js';
import type { ServiceConfig } from '../config.js';
import type { ReleaseRequest } from '../types.js';
import { supplyChainOn, supplyChainPolicy } from '../supply-chain/config.js';
import { IN_TOTO_PAYLOAD_TYPE, type MessageSigner, signEnvelope } from '../supply-chain/dsse.js';
import { verificationSummary } from '../supply-chain/vsa.js';
import type { SignedArtifact } from './resolve-artifact.js';
import type { SupplyChainSummary } from './verify-provenance.js';
import type { VulnerabilityGateResult } from './vulnerability-gate.js';

/**
 * After "Record environment" (the version is known-good there): the signed SLSA verification
 * summary of what the release verified, written next to the promoted copy. It is evidence, not
 * a gate: the environment is already known-good, so a summary that cannot be written is
 * recorded as a failed decision saying why, and the release goes on. A service whose
 * supplyChain asks nothing gets none: there would be nothing to summarise but checksums.
 */

export interface AttestEnvironmentInput {
  release: ReleaseRequest;
  service?: Pick<ServiceConfig, 'supplyChain'>;
  environment: { name: string };
  artifact: SignedArtifact;
  /** What Verify provenance returned ($.supplyChain). */
  supplyChain?: SupplyChainSummary | null;
  /** What the vulnerability gate returned ($.vulnerabilities). */
  vulnerabilities?: VulnerabilityGateResult | null;
}

export type AttestEnvironmentDeps = Pick<Deps, 'ledger' | 'clock' | 'locations'> & {
  store: Pick<ObjectStore, 'put'>;
  /** The pipeline's verification key (VERIFICATION_KEY_ARN in AWS, the data dir's locally). */
  verificationSigner?: MessageSigner;
};

export interface AttestEnvironmentResult {
  written: boolean;
  /** s3://… of the envelope, when written. */
  uri?: string;
  keyid?: string;
  verifiedLevels?: string[];
}

const STEP = 'attest';

export async function attestEnvironment(ctx: AttestEnvironmentInput, deps: AttestEnvironmentDeps): Promise<AttestEnvironmentResult> {
  const { release, artifact } = ctx;
  const env = ctx.environment.name;
  const policy = supplyChainPolicy(undefined, ctx.service?.supplyChain);
  if (!supplyChainOn(policy)) return { written: false };
  const { artifactsBucket, environmentsBucket } = deps.locations;
  const key = verificationSummaryKey(env, release.service, release.version);
  const uri = `s3://${environmentsBucket}/${key}`;
  // A config release ships its base build's code: the attestations read were the base's.
  const built = artifact.config?.base ?? release.version;
  try {
    if (!deps.verificationSigner) throw new Error('the pipeline has no verification key (VERIFICATION_KEY_ARN is not set on this function; deploy this version of the stack)');
    const statement = verificationSummary({
      service: release.service,
      version: release.version,
      environment: env,
      policy,
      files: artifact.files,
      imageDigest: artifact.imageDigest,
      resourceUri: `s3://${environmentsBucket}/${environmentPrefix(env, release.service, release.version)}`,
      manifest: `s3://${artifactsBucket}/${artifact.manifestKey}`,
      signature: artifact.signature ? { uri: `s3://${artifactsBucket}/${manifestSignatureKey(release.service, release.version)}`, keyid: artifact.signature.keyid } : undefined,
      provenance: ctx.supplyChain?.provenance ? { uri: `s3://${artifactsBucket}/${provenanceKey(release.service, built)}`, ...ctx.supplyChain.provenance } : undefined,
      sbom: ctx.supplyChain?.sbom ? { uri: `s3://${artifactsBucket}/${sbomKey(release.service, built)}`, sha256: ctx.supplyChain.sbom.sha256 } : undefined,
      vulnerabilities: ctx.vulnerabilities ?? undefined,
      at: deps.clock.now(),
    });
    const envelope = await signEnvelope(deps.verificationSigner, IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement), 'utf8'));
    await deps.store.put({ bucket: environmentsBucket, key }, JSON.stringify(envelope, null, 2), 'application/json');
    const keyid = envelope.signatures[0]!.keyid;
    const levels = statement.predicate.verifiedLevels;
    await decide(deps, release, {
      step: STEP,
      environment: env,
      verdict: 'passed',
      summary: `verification summary (SLSA VSA) of ${release.version} in ${env}: ${levels.join(', ')}, signed by key ${keyid.slice(0, 16)} at ${uri}`,
      evidence: { uri, keyid, verifiedLevels: levels, policy: statement.predicate.policy, timeVerified: statement.predicate.timeVerified },
    });
    return { written: true, uri, keyid, verifiedLevels: levels };
  } catch (err) {
    await noSummary(deps, release, env, errorMessage(err), { uri, error: errorMessage(err) });
    return { written: false };
  }
}

/** The failed attest decision: why `env` has no summary, and that it stays known-good. */
async function noSummary(deps: Pick<Deps, 'ledger' | 'clock'>, release: ReleaseRequest, env: string, why: string, evidence: Record<string, unknown>): Promise<void> {
  await decide(deps, release, {
    step: STEP,
    environment: env,
    verdict: 'failed',
    summary: `no verification summary of ${release.version} in ${env}: ${why}; ${env} stays known-good (the summary is evidence, not a gate)`,
    evidence,
  });
}

/**
 * The reconciler's part: an execution that ended between "Record environment" and "Write
 * verification summary" (a console stop, a timeout) left an environment known-good with no
 * summary and no decision saying so. For each such environment of a service whose supplyChain
 * asks for checks, this records the failed attest decision the step would have, naming why;
 * an environment with an attest decision already (written, refused, or named by an earlier
 * reconcile) is left alone. Returns the environments it named.
 */
export async function nameMissingSummaries(deps: Pick<Deps, 'ledger' | 'clock'>, release: ReleaseRequest, service: Pick<ServiceConfig, 'supplyChain'> | undefined, ended: string): Promise<string[]> {
  if (!supplyChainOn(supplyChainPolicy(undefined, service?.supplyChain))) return [];
  const decisions = await deps.ledger.decisions(release.service, release.version);
  const attested = new Set(decisions.filter((d) => d.step === STEP).map((d) => d.environment));
  const missing = environmentsReached(decisions).filter((env) => !attested.has(env));
  for (const env of missing) {
    await noSummary(deps, release, env, `the execution ${ended} after ${env} recorded it known-good and before the summary was written`, { error: `execution ended before the summary: ${ended}` });
  }
  return missing;
}
