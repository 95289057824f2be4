import { sbomVulnerabilities } from './sbom.js';
import { severityOf, type Finding } from './vulnerability-gate.js';

/**
 * The findings of a CycloneDX SBOM's `vulnerabilities[]` (CI attaches what its scanner found,
 * with VEX analyses), for a zip build's gate: sbom.ts reads each one (id, most severe rating,
 * affected bom-refs, analysis state); here each affected component is named from `components`,
 * and analyses that say the build is not exposed take the finding out.
 */

/** Analyses that say the build is not exposed: such a finding does not count. */
const NOT_EXPLOITABLE = new Set(['not_affected', 'false_positive', 'resolved', 'resolved_with_pedigree']);

export interface SbomFindings {
  findings: Finding[];
  /** Vulnerabilities CI's analysis dismissed, with the state it gave. */
  dismissed: { id: string; state: string }[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Every component by its bom-ref, nested ones included. */
function componentsByRef(bom: Json): Map<string, { name: string; version?: string }> {
  const out = new Map<string, { name: string; version?: string }>();
  const walk = (components: unknown) => {
    for (const c of list(components)) {
      if (!isObject(c)) continue;
      if (typeof c['bom-ref'] === 'string' && typeof c.name === 'string') {
        const group = typeof c.group === 'string' && c.group ? `${c.group}/` : '';
        out.set(c['bom-ref'], { name: `${group}${c.name}`, ...(typeof c.version === 'string' ? { version: c.version } : {}) });
      }
      walk(c.components);
    }
  };
  walk(bom.components);
  if (isObject(bom.metadata) && isObject(bom.metadata.component)) walk([bom.metadata.component]);
  return out;
}

/** The SBOM's vulnerabilities (read by sbom.ts) as findings, one per affected component. */
export function sbomFindings(bom: unknown, where: string): SbomFindings {
  if (!isObject(bom)) throw new Error(`${where} is not a CycloneDX document (a JSON object)`);
  const components = componentsByRef(bom);
  const findings: Finding[] = [];
  const dismissed: SbomFindings['dismissed'] = [];
  for (const v of sbomVulnerabilities(bom)) {
    if (v.state && NOT_EXPLOITABLE.has(v.state)) {
      dismissed.push({ id: v.id, state: v.state });
      continue;
    }
    // sbom.ts ranks the ratings: the most severe one that is a rating at all.
    const severity = severityOf(v.severity);
    if (v.affects.length === 0) findings.push({ id: v.id, severity });
    for (const ref of v.affects) {
      const c = components.get(ref);
      findings.push({ id: v.id, severity, package: c?.name ?? ref, ...(c?.version ? { version: c.version } : {}) });
    }
  }
  return { findings, dismissed };
}
