import { createHash } from 'node:crypto';
import { TagflowError } from '../errors.js';

/**
 * The build's CycloneDX SBOM (JSON), validated against the CycloneDX schema of its own
 * specVersion by the maintained library's strict validator (its schemas ship with it: no network).
 * What the release records is the component count and the SBOM's own SHA-256, so the ledger
 * says exactly which document was accepted.
 */

/** Required, and not there. */
export class SbomMissing extends TagflowError {
  override readonly name = 'SbomMissing';
}

/** There, but not a CycloneDX document its schema accepts; the message carries the validator's first problems. */
export class SbomInvalid extends TagflowError {
  override readonly name = 'SbomInvalid';
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

/** The fields tagflow reads; the rest of the document is the schema's business. */
export interface CycloneDxComponent {
  type?: string;
  name?: string;
  version?: string;
  purl?: string;
  'bom-ref'?: string;
  components?: CycloneDxComponent[];
}

export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: string;
  components?: CycloneDxComponent[];
  vulnerabilities?: CycloneDxVulnerability[];
}

export interface CycloneDxVulnerability {
  id?: string;
  ratings?: { severity?: string; score?: number; method?: string }[];
  affects?: { ref?: string; versions?: unknown[] }[];
  analysis?: { state?: string; justification?: string };
}

export interface ReadSbom {
  bom: CycloneDxBom;
  specVersion: string;
  /** Every component, nested ones included. */
  components: number;
  /** SHA-256 of the uploaded bytes, hex. */
  sha256: string;
}

/** The spec versions the library has a JSON schema for. */
export const SBOM_SPEC_VERSIONS = ['1.2', '1.3', '1.4', '1.5', '1.6', '1.7'] as const;

const MAX_PROBLEMS = 3;

type Validate = (json: string) => Promise<unknown>;
const validators = new Map<string, Validate>();

/** One strict validator per spec version, compiled once per process (ajv compiles the schema on first use). */
async function validatorFor(specVersion: string): Promise<Validate> {
  let v = validators.get(specVersion);
  if (!v) {
    // Loaded on first use: a release whose policy asks for no SBOM never compiles a schema.
    const { Validation, Spec } = await import('@cyclonedx/cyclonedx-library');
    const validator = new Validation.JsonStrictValidator(specVersion as (typeof Spec.Version)[keyof typeof Spec.Version]);
    v = (json) => validator.validate(json);
    validators.set(specVersion, v);
  }
  return v;
}

/** An ajv error as a line: where in the document, what is wrong. */
function problemOf(e: unknown): string {
  const o = (e ?? {}) as { instancePath?: string; message?: string; params?: Record<string, unknown> };
  const at = o.instancePath ? o.instancePath : '(document)';
  const extra = o.params?.additionalProperty ?? o.params?.allowedValues ?? o.params?.missingProperty;
  return `${at} ${o.message ?? 'is invalid'}${extra !== undefined ? ` (${JSON.stringify(extra)})` : ''}`;
}

/** Reads and validates an SBOM; throws `SbomInvalid` naming where and the first problems. */
export async function readSbom(bytes: Uint8Array, where: string): Promise<ReadSbom> {
  const text = new TextDecoder().decode(bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SbomInvalid(`${where} is not valid JSON (${(err as Error).message}): CI must upload a CycloneDX JSON SBOM`, ['not JSON']);
  }
  const o = doc as Partial<CycloneDxBom> | null;
  if (!o || typeof o !== 'object' || o.bomFormat !== 'CycloneDX')
    throw new SbomInvalid(`${where} is not a CycloneDX SBOM (bomFormat ${JSON.stringify(o?.bomFormat)}, expected "CycloneDX"): CI must upload a CycloneDX JSON SBOM`, ['bomFormat']);
  const specVersion = String(o.specVersion);
  if (!(SBOM_SPEC_VERSIONS as readonly string[]).includes(specVersion))
    throw new SbomInvalid(`${where}: specVersion ${JSON.stringify(o.specVersion)} is not one tagflow validates (${SBOM_SPEC_VERSIONS.join(', ')}); have CI write CycloneDX 1.5 or later`, ['specVersion']);
  const errors = await (await validatorFor(specVersion))(text);
  if (errors) {
    const problems = (Array.isArray(errors) ? errors : [errors]).slice(0, MAX_PROBLEMS).map(problemOf);
    throw new SbomInvalid(`${where} is not a valid CycloneDX ${specVersion} SBOM: ${problems.join('; ')}`, problems);
  }
  const bom = o as CycloneDxBom;
  return { bom, specVersion, components: countComponents(bom.components), sha256 };
}

export function countComponents(components: CycloneDxComponent[] | undefined): number {
  return (components ?? []).reduce((n, c) => n + 1 + countComponents(c.components), 0);
}

/** A finding the SBOM's CI attached (CycloneDX `vulnerabilities`, VEX). */
export interface SbomVulnerability {
  id: string;
  /** Every rating's severity as written, lower-cased ("critical", "high", …; "unknown" when unrated). */
  severities: string[];
  /** The most severe rating: what a gate compares. */
  severity: Severity;
  /** The bom-refs (or purls) of the components it affects. */
  affects: string[];
  /** The VEX analysis state when given ("not_affected", "resolved", …). */
  state?: string;
}

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info' | 'none' | 'unknown';
const ORDER: Severity[] = ['critical', 'high', 'medium', 'low', 'info', 'none', 'unknown'];

const severityOf = (s: unknown): Severity => {
  const v = typeof s === 'string' ? s.toLowerCase() : 'unknown';
  return (ORDER as string[]).includes(v) ? (v as Severity) : 'unknown';
};

/** The vulnerabilities of a CycloneDX document (read defensively: it may come unvalidated). */
export function sbomVulnerabilities(bom: unknown): SbomVulnerability[] {
  const list = (bom as { vulnerabilities?: unknown } | null)?.vulnerabilities;
  if (!Array.isArray(list)) return [];
  return list.flatMap((raw, i): SbomVulnerability[] => {
    const v = (raw ?? {}) as CycloneDxVulnerability;
    const severities = (Array.isArray(v.ratings) ? v.ratings : []).map((r) => severityOf(r?.severity));
    const ranked = [...severities].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
    const affects = (Array.isArray(v.affects) ? v.affects : []).flatMap((a) => (typeof a?.ref === 'string' ? [a.ref] : []));
    return [
      {
        id: typeof v.id === 'string' && v.id ? v.id : `vulnerabilities[${i}]`,
        severities: severities.length ? severities : ['unknown'],
        severity: ranked[0] ?? 'unknown',
        affects,
        ...(typeof v.analysis?.state === 'string' ? { state: v.analysis.state } : {}),
      },
    ];
  });
}
