import type { Decision } from '../types.js';
import { escapeHtml as h } from './html.js';

/**
 * The report's supply-chain lines: what Verify provenance accepted (builder, commit, the SBOM's
 * component count and digest) or why it refused, read off its decision. Evidence is `unknown`
 * in the ledger, so a field of another shape is left out.
 */
export interface SupplyChainFacts {
  provenance?: { builder: string; commit: string; repository?: string; keyid?: string };
  sbom?: { components: number; sha256: string; specVersion?: string };
  /** The refusal, when the step refused the build. */
  refused?: string;
  /** The vulnerability gate's verdict and its words, when it ran. */
  vulnerabilities?: { verdict: string; summary: string };
  /** The signed verification summaries written where the version became known-good, or why one was not. */
  summaries?: { environment: string; written: boolean; summary: string; uri?: string; keyid?: string; verifiedLevels?: string[] }[];
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

export const VERIFY_PROVENANCE_STEP = 'verify-provenance';

/** The supply-chain decisions' facts; undefined when no step recorded one (the policy asked nothing). */
export function supplyChainOf(decisions: Decision[]): SupplyChainFacts | undefined {
  const verified = verifiedOf(decisions.filter((x) => x.step === VERIFY_PROVENANCE_STEP).at(-1));
  const gate = decisions.filter((x) => x.step === 'vulnerability-gate' && !x.environment).at(-1);
  const summaries = decisions.filter((x) => x.step === 'attest' && x.environment).map((d) => {
    const e = isObject(d.evidence) ? d.evidence : {};
    const levels = Array.isArray(e.verifiedLevels) ? e.verifiedLevels.filter((l): l is string => typeof l === 'string') : undefined;
    return { environment: d.environment!, written: d.verdict === 'passed', summary: d.summary, ...(str(e.uri) ? { uri: str(e.uri)! } : {}), ...(str(e.keyid) ? { keyid: str(e.keyid)! } : {}), ...(levels ? { verifiedLevels: levels } : {}) };
  });
  if (!verified && !gate && summaries.length === 0) return undefined;
  return { ...verified, ...(gate ? { vulnerabilities: { verdict: gate.verdict, summary: gate.summary } } : {}), ...(summaries.length ? { summaries } : {}) };
}

function verifiedOf(d: Decision | undefined): SupplyChainFacts | undefined {
  if (!d) return undefined;
  if (d.verdict === 'failed') return { refused: d.summary };
  const e = isObject(d.evidence) ? d.evidence : {};
  const facts: SupplyChainFacts = {};
  const p = isObject(e.provenance) ? e.provenance : undefined;
  if (p && str(p.builder) && str(p.commit)) {
    const repository = str(p.repository);
    const keyid = str(p.keyid);
    facts.provenance = { builder: str(p.builder)!, commit: str(p.commit)!, ...(repository ? { repository } : {}), ...(keyid ? { keyid } : {}) };
  }
  const s = isObject(e.sbom) ? e.sbom : undefined;
  if (s && typeof s.components === 'number' && str(s.sha256)) {
    const specVersion = str(s.specVersion);
    facts.sbom = { components: s.components, sha256: str(s.sha256)!, ...(specVersion ? { specVersion } : {}) };
  }
  return facts;
}

/** The report's "Supply chain" section; empty when nothing was checked. */
export function supplyChainSection(f: SupplyChainFacts | undefined): string {
  if (!f || (!f.provenance && !f.sbom && !f.refused && !f.vulnerabilities && !f.summaries?.length)) return '';
  const items: string[] = [];
  if (f.refused) items.push(`<li class="v failed">refused: ${h(f.refused)}</li>`);
  if (f.provenance)
    items.push(
      `<li data-check="provenance">provenance: built by <code>${h(f.provenance.builder)}</code> from ${f.provenance.repository ? `${h(f.provenance.repository)} ` : ''}commit <code title="${h(f.provenance.commit)}">${h(f.provenance.commit.slice(0, 12))}</code>${f.provenance.keyid ? `, signed by key <code>${h(f.provenance.keyid.slice(0, 16))}</code>` : ''}</li>`,
    );
  if (f.sbom)
    items.push(`<li data-check="sbom">SBOM${f.sbom.specVersion ? ` (CycloneDX ${h(f.sbom.specVersion)})` : ''}: <span data-components="${f.sbom.components}">${f.sbom.components} components</span>, sha256 <code title="${h(f.sbom.sha256)}">${h(f.sbom.sha256.slice(0, 16))}</code></li>`);
  if (f.vulnerabilities) items.push(`<li data-check="vulnerabilities" class="v ${h(f.vulnerabilities.verdict)}">vulnerability gate: ${h(f.vulnerabilities.summary)}</li>`);
  for (const v of f.summaries ?? [])
    items.push(
      v.written
        ? `<li data-check="vsa" data-environment="${h(v.environment)}">verification summary in ${h(v.environment)}: ${h((v.verifiedLevels ?? []).join(', '))}${v.keyid ? `, signed by key <code title="${h(v.keyid)}">${h(v.keyid.slice(0, 16))}</code>` : ''}${v.uri ? ` at <code>${h(v.uri)}</code>` : ''}</li>`
        : `<li data-check="vsa" data-environment="${h(v.environment)}" class="v failed">${h(v.summary)}</li>`,
    );
  return `<section id="supply-chain"><h2>Supply chain</h2><ul>${items.join('')}</ul></section>`;
}
