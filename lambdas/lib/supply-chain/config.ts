import * as z from 'zod';
import type { FieldIssue } from '../errors.js';

/**
 * What a service's builds must prove before anything is promoted (issue 17). Given once at the
 * top level as the default for every service (`supplyChain`), and per service
 * (`services.<name>.supplyChain`), whose fields win field by field. Absent everywhere: off, as
 * before, so a first run needs no keys.
 */

/** A finding the gate lets through until `expires`, with the reason a person gave. */
const allowed = z.strictObject({
  id: z.string().regex(/^[A-Za-z][\w.:-]*$/, 'a vulnerability id such as "CVE-2024-12345" or "GHSA-xxxx-xxxx-xxxx"'),
  expires: z.iso.date('a date such as "2027-01-31": an allowance must end'),
  reason: z.string().min(1, 'say why this finding is accepted'),
});

/** The most findings of each severity a build may carry (absent: no limit for that severity). */
const maxSeverity = z.strictObject({
  critical: z.number().int().min(0).optional(),
  high: z.number().int().min(0).optional(),
  medium: z.number().int().min(0).optional(),
  low: z.number().int().min(0).optional(),
});

export const supplyChainSchema = z.strictObject({
  /** The build manifest must carry a DSSE signature by the pipeline's signing key. */
  signatures: z.enum(['required', 'off'], { error: 'expected "required" (builds must be signed by the pipeline\'s key) or "off"' }).optional(),
  /**
   * The verifying key as a PEM SPKI (ECDSA P-256), pinned: no KMS call at all. Absent: the
   * stack's signing key (kms:GetPublicKey, once per warm function), or locally the data dir's key.
   */
  publicKey: z.string().includes('BEGIN PUBLIC KEY', { message: 'a PEM public key ("-----BEGIN PUBLIC KEY-----…")' }).optional(),
  /** An in-toto SLSA provenance statement must come with the build and match it. */
  provenance: z.enum(['required', 'off'], { error: 'expected "required" (builds must come with matching SLSA provenance) or "off"' }).optional(),
  /** Builder ids a provenance may name (`runDetails.builder.id`); required when provenance is. */
  builders: z.array(z.string().min(1)).min(1, 'list at least one builder id, e.g. "https://github.com/actions/runner"').optional(),
  /** The source repository a provenance must name (e.g. "git+https://github.com/acme/shop"); absent: any, the commit still must match. */
  repository: z.string().min(1).optional(),
  /** A CycloneDX SBOM must come with the build. */
  sbom: z.enum(['required', 'optional', 'off'], { error: 'expected "required", "optional" (checked when present) or "off"' }).optional(),
  /** The vulnerability gate: ECR scan findings for images, the SBOM's vulnerabilities for zips. */
  maxSeverity: maxSeverity.optional(),
  /** Findings accepted for a while, each with an expiry and a reason. */
  allow: z.array(allowed).optional(),
  /** How long the gate waits for an image scan still in progress. */
  scanWaitSeconds: z.number().int().min(0).max(3600).optional(),
});

export type SupplyChainConfig = z.infer<typeof supplyChainSchema>;
export const SUPPLY_CHAIN_KEYS = Object.keys(supplyChainSchema.shape);
export const ALLOW_KEYS = Object.keys(allowed.shape);
export const MAX_SEVERITY_KEYS = Object.keys(maxSeverity.shape);

/** The policy in force for a service: its own fields over the top-level defaults. */
export interface SupplyChainPolicy {
  signatures: 'required' | 'off';
  publicKey?: string;
  provenance: 'required' | 'off';
  builders: string[];
  repository?: string;
  sbom: 'required' | 'optional' | 'off';
  maxSeverity?: SupplyChainConfig['maxSeverity'];
  allow: NonNullable<SupplyChainConfig['allow']>;
  scanWaitSeconds: number;
}

export function supplyChainPolicy(defaults: SupplyChainConfig | undefined, own: SupplyChainConfig | undefined): SupplyChainPolicy {
  const c = { ...defaults, ...own };
  return {
    signatures: c.signatures ?? 'off',
    ...(c.publicKey ? { publicKey: c.publicKey } : {}),
    provenance: c.provenance ?? 'off',
    builders: c.builders ?? [],
    ...(c.repository ? { repository: c.repository } : {}),
    sbom: c.sbom ?? 'off',
    ...(c.maxSeverity ? { maxSeverity: c.maxSeverity } : {}),
    allow: c.allow ?? [],
    scanWaitSeconds: c.scanWaitSeconds ?? 300,
  };
}

/** Whether the policy asks anything of a build. */
export const supplyChainOn = (p: SupplyChainPolicy): boolean =>
  p.signatures === 'required' || p.provenance === 'required' || p.sbom !== 'off' || p.maxSeverity !== undefined;

/** Gives each service the merged policy (its own fields over the top-level defaults), so a release's snapshot of its service carries it. */
export function withSupplyChainDefaults<S extends { supplyChain?: SupplyChainConfig | undefined }>(services: Record<string, S>, defaults: SupplyChainConfig | undefined): void {
  if (!defaults) return;
  for (const svc of Object.values(services)) svc.supplyChain = { ...defaults, ...svc.supplyChain };
}

/** A provenance check needs builders to trust. */
export function supplyChainIssues(services: Record<string, { supplyChain?: SupplyChainConfig | undefined }>, defaults: SupplyChainConfig | undefined): FieldIssue[] {
  return Object.entries(services).flatMap(([name, svc]): FieldIssue[] => {
    const p = supplyChainPolicy(defaults, svc.supplyChain);
    if (p.provenance === 'required' && p.builders.length === 0)
      return [{ field: `services.${name}.supplyChain.builders`, problem: 'provenance is "required" but no builder is trusted: list the builder ids CI runs as (runDetails.builder.id), e.g. ["https://github.com/actions/runner"], here or in the top-level supplyChain' }];
    return [];
  });
}
