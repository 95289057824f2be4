import { createHash } from 'node:crypto';
import type { SupplyChainPolicy } from './config.js';

/**
 * SLSA verification summaries (VSA v1, https://slsa.dev/spec/v1.0/verification_summary): what
 * the pipeline verified of a build before it became known-good in an environment, against which
 * policy, when. An in-toto statement, signed in a DSSE envelope by the pipeline's verification
 * key (not CI's signing key: CI must not be able to vouch for its own builds), written next to
 * the promoted copy, where whoever consumes the promoted copy can check it.
 */

export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** Who verified: this pipeline (the envelope's keyid names the instance's key). */
export const VERIFIER_ID = 'https://tagflow.dev/verifier/v1';

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
}

export interface VerificationSummary {
  _type: typeof IN_TOTO_STATEMENT_TYPE;
  subject: ResourceDescriptor[];
  predicateType: typeof VSA_PREDICATE_TYPE;
  predicate: {
    verifier: { id: string };
    timeVerified: string;
    resourceUri: string;
    policy: ResourceDescriptor;
    inputAttestations: ResourceDescriptor[];
    verificationResult: 'PASSED';
    verifiedLevels: string[];
    slsaVersion: '1.0';
  };
}

/** What the release verified of the build, as its steps returned it. */
export interface VerifiedFacts {
  service: string;
  version: string;
  environment: string;
  policy: SupplyChainPolicy;
  files: { path: string; sha256: string }[];
  imageDigest?: string | undefined;
  /** Where the promoted copy lives (`s3://bucket/<env>/<service>/<version>/`). */
  resourceUri: string;
  /** The build's manifest, its signature envelope, provenance and SBOM, where each was read. */
  manifest: string;
  signature?: { uri: string; keyid: string } | undefined;
  provenance?: { uri: string; builder: string; commit: string } | undefined;
  sbom?: { uri: string; sha256: string } | undefined;
  vulnerabilities?: { verdict: 'off' | 'passed' | 'overridden' } | undefined;
  at: Date;
}

/**
 * The levels this summary can honestly claim. SLSA Build L1 is provenance that exists and
 * matches the build; higher levels are properties of the build platform the pipeline cannot
 * observe, so it claims none. What else it checked is named with TAGFLOW_ values, as the VSA
 * spec allows for values that do not start with SLSA_.
 */
export function verifiedLevels(f: Pick<VerifiedFacts, 'signature' | 'provenance' | 'sbom' | 'vulnerabilities'>): string[] {
  return [
    f.provenance ? 'SLSA_BUILD_LEVEL_1' : 'SLSA_BUILD_LEVEL_0',
    ...(f.signature ? ['TAGFLOW_SIGNED_MANIFEST'] : []),
    ...(f.sbom ? ['TAGFLOW_SBOM'] : []),
    ...(f.vulnerabilities?.verdict === 'passed' ? ['TAGFLOW_VULNERABILITY_GATE'] : []),
    ...(f.vulnerabilities?.verdict === 'overridden' ? ['TAGFLOW_VULNERABILITY_GATE_OVERRIDDEN'] : []),
  ];
}

/** JSON with keys in sorted order, so the same policy always has the same digest. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export const policyDigest = (policy: SupplyChainPolicy): string => createHash('sha256').update(canonicalJson(policy)).digest('hex');

export function verificationSummary(f: VerifiedFacts): VerificationSummary {
  const subject: ResourceDescriptor[] = f.files.map((file) => ({ name: file.path, digest: { sha256: file.sha256 } }));
  if (f.imageDigest) subject.push({ name: `${f.service}@${f.imageDigest}`, digest: { sha256: f.imageDigest.replace(/^sha256:/, '') } });
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject,
    predicateType: VSA_PREDICATE_TYPE,
    predicate: {
      verifier: { id: VERIFIER_ID },
      timeVerified: f.at.toISOString(),
      resourceUri: f.resourceUri,
      policy: { uri: `tagflow:services/${f.service}/supplyChain`, digest: { sha256: policyDigest(f.policy) } },
      inputAttestations: [
        { uri: f.manifest },
        ...(f.signature ? [{ uri: f.signature.uri }] : []),
        ...(f.provenance ? [{ uri: f.provenance.uri }] : []),
        ...(f.sbom ? [{ uri: f.sbom.uri, digest: { sha256: f.sbom.sha256 } }] : []),
      ],
      verificationResult: 'PASSED',
      verifiedLevels: verifiedLevels(f),
      slsaVersion: '1.0',
    },
  };
}
