import { decide } from '../decisions.js';
import { provenanceKey, sbomKey } from '../keys.js';
import type { Deps, ObjectReader } from '../ports.js';
import type { ReleaseRequest, ResolvedArtifact } from '../types.js';
import { supplyChainPolicy, type SupplyChainConfig, type SupplyChainPolicy } from '../supply-chain/config.js';
import { ManifestSignatureInvalid, trustedKey, type TrustedKey } from '../supply-chain/signed-manifest.js';
import type { SigningKeyDeps } from './resolve-artifact.js';
import { checkProvenance, ProvenanceMismatch, ProvenanceMissing, readProvenance, type ProvenanceFacts } from '../supply-chain/provenance.js';
import { SbomInvalid, SbomMissing } from '../supply-chain/sbom.js';
import { readSbom } from '../supply-chain/sbom-validate.js';

/**
 * After Resolve artifact (the manifest and its bytes are trusted), before any environment: the
 * build's provenance must say it was built from the release's commit by a trusted builder and
 * name exactly the manifest's files; its SBOM must be a valid CycloneDX document. What the
 * service's `supplyChain` does not ask for is not read.
 */

export interface VerifyProvenanceInput {
  release: Pick<ReleaseRequest, 'service' | 'version' | 'commit'>;
  service?: { supplyChain?: SupplyChainConfig | undefined };
  artifact: Pick<ResolvedArtifact, 'commit' | 'files' | 'imageDigest' | 'config'>;
}

/** What the release carries on (`$.supplyChain`): small, for later steps and the report. */
export interface SupplyChainSummary {
  provenance?: { builder: string; commit: string };
  sbom?: { components: number; sha256: string };
}

/** `signingKey`: the pipeline's key for signed provenance when the config pins none (KMS in AWS, the data dir's key locally), as Resolve artifact's. */
export type VerifyProvenanceDeps = Pick<Deps, 'locations' | 'ledger' | 'clock'> & { store: ObjectReader } & SigningKeyDeps;

const STEP = 'verify-provenance';

export async function verifyProvenance(ctx: VerifyProvenanceInput, deps: VerifyProvenanceDeps): Promise<SupplyChainSummary> {
  const policy = supplyChainPolicy(undefined, ctx.service?.supplyChain);
  if (policy.provenance === 'off' && policy.sbom === 'off') return {};
  const { release } = ctx;
  const bucket = deps.locations.artifactsBucket;
  // A config release ships the code of its base build: what CI attested is that build.
  const base = ctx.artifact.config?.base;
  const built = base ?? release.version;
  const ofBase = base ? ` (of its base build ${base})` : '';
  const fail = async (err: Error, evidence: Record<string, unknown>): Promise<never> => {
    await decide(deps, release, { step: STEP, verdict: 'failed', summary: err.message, evidence: { error: err.name, ...evidence } });
    throw err;
  };

  const summary: SupplyChainSummary = {};
  const evidence: Record<string, unknown> = {};
  const lines: string[] = [];

  if (policy.provenance === 'required') {
    const key = provenanceKey(release.service, built);
    const where = `s3://${bucket}/${key}`;
    let facts: ProvenanceFacts;
    let keyid: string | undefined;
    try {
      const bytes = await deps.store.get({ bucket, key });
      if (!bytes)
        throw new ProvenanceMissing(
          `${release.service} requires provenance (supplyChain.provenance "required") but there is none${ofBase} at ${where}: CI must upload an in-toto SLSA v1 provenance statement${policy.signatures === 'required' ? ' in a DSSE envelope signed by the pipeline\'s key' : ''} there with the build (tagflow publish-build --provenance FILE)`,
        );
      const trusted = policy.signatures === 'required' ? await keyFor(policy, deps, release.service) : undefined;
      const read = readProvenance(bytes, where, trusted?.key);
      keyid = read.keyid;
      facts = checkProvenance(read.statement, { files: ctx.artifact.files, imageDigest: ctx.artifact.imageDigest, commit: ctx.artifact.commit, repository: policy.repository, builders: policy.builders, unbuiltFilesAllowed: base !== undefined }, where);
    } catch (err) {
      if (err instanceof ProvenanceMismatch) return fail(err, { provenance: where, field: err.field, provenanceValue: err.provenanceValue, releaseValue: err.releaseValue });
      if (err instanceof ProvenanceMissing) return fail(err, { provenance: where });
      throw err;
    }
    summary.provenance = { builder: facts.builder, commit: facts.commit };
    evidence.provenance = { key: where, ...facts, ...(keyid ? { keyid } : {}) };
    lines.push(`provenance${ofBase}: built by ${facts.builder} from ${facts.repository || 'its source'} at ${facts.commit.slice(0, 12)}, ${facts.subjects} subjects match the build${keyid ? `, signed by key ${keyid.slice(0, 16)}` : ''}`);
  }

  if (policy.sbom !== 'off') {
    const key = sbomKey(release.service, built);
    const where = `s3://${bucket}/${key}`;
    const bytes = await deps.store.get({ bucket, key });
    if (!bytes) {
      if (policy.sbom === 'required')
        return fail(new SbomMissing(`${release.service} requires an SBOM (supplyChain.sbom "required") but there is none${ofBase} at ${where}: CI must upload a CycloneDX JSON SBOM there with the build (tagflow publish-build --sbom FILE)`), { sbom: where });
      lines.push('SBOM: none (optional)');
    } else {
      try {
        const sbom = await readSbom(bytes, where);
        summary.sbom = { components: sbom.components, sha256: sbom.sha256 };
        evidence.sbom = { key: where, specVersion: sbom.specVersion, components: sbom.components, sha256: sbom.sha256 };
        lines.push(`SBOM${ofBase}: CycloneDX ${sbom.specVersion}, ${sbom.components} components, sha256 ${sbom.sha256.slice(0, 16)}`);
      } catch (err) {
        if (!(err instanceof SbomInvalid)) throw err;
        // "optional": a build may come without one, but one that is there must be valid.
        return fail(err, { sbom: where, problems: err.problems });
      }
    }
  }

  await decide(deps, release, { step: STEP, verdict: 'passed', summary: lines.join('; '), evidence });
  return summary;
}

/** The key signed provenance must verify with: the pinned one, else the pipeline's (as for the manifest). */
async function keyFor(policy: SupplyChainPolicy, deps: VerifyProvenanceDeps, service: string): Promise<TrustedKey> {
  try {
    return await trustedKey(policy, deps.signingKey, service);
  } catch (err) {
    if (err instanceof ManifestSignatureInvalid) throw new ProvenanceMissing(`the provenance's signature cannot be verified: ${err.message}`);
    throw err;
  }
}
