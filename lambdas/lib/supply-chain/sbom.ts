import { TagflowError } from '../errors.js';

/**
 * The build's CycloneDX SBOM (JSON): its errors, the fields tagflow reads, and its vulnerability
 * list. Reading and validating one is sbom-validate.ts, kept apart so that a step that only reads
 * vulnerabilities does not carry the schemas.
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
