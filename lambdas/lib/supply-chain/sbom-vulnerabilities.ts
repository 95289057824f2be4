import { SEVERITIES, severityOf, type Finding, type Severity } from './vulnerability-gate.js';

/**
 * The findings of a CycloneDX 1.5 SBOM's `vulnerabilities[]` (CI attaches what its scanner
 * found, with VEX analyses), for a zip build's gate. Only the fields the gate needs are read:
 * `id`, `ratings[].severity` (the highest counts), `affects[].ref` (a component's `bom-ref`,
 * for its name and version) and `analysis.state`.
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

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** The SBOM's vulnerabilities as findings; a malformed entry is refused naming its index. */
export function sbomFindings(bom: unknown, where: string): SbomFindings {
  if (!isObject(bom)) throw new Error(`${where} is not a CycloneDX document (a JSON object)`);
  const components = componentsByRef(bom);
  const findings: Finding[] = [];
  const dismissed: SbomFindings['dismissed'] = [];
  list(bom.vulnerabilities).forEach((v, i) => {
    if (!isObject(v) || typeof v.id !== 'string' || !v.id) throw new Error(`${where}: vulnerabilities[${i}].id is missing; each vulnerability needs its id, e.g. "CVE-2024-12345"`);
    const state = isObject(v.analysis) && typeof v.analysis.state === 'string' ? v.analysis.state : undefined;
    if (state && NOT_EXPLOITABLE.has(state)) {
      dismissed.push({ id: v.id, state });
      return;
    }
    const severities = list(v.ratings).map((r) => severityOf(isObject(r) && typeof r.severity === 'string' ? r.severity : undefined));
    // Rated by several sources: the most severe rating that is a rating at all.
    const rated = severities.filter((s) => s !== 'UNDEFINED').sort((a, b) => rank(a) - rank(b));
    const severity = rated[0] ?? 'UNDEFINED';
    const refs = list(v.affects).flatMap((a) => (isObject(a) && typeof a.ref === 'string' ? [a.ref] : []));
    if (refs.length === 0) findings.push({ id: v.id, severity });
    for (const ref of refs) {
      const c = components.get(ref);
      findings.push({ id: v.id, severity, package: c?.name ?? ref, ...(c?.version ? { version: c.version } : {}) });
    }
  });
  return { findings, dismissed };
}
