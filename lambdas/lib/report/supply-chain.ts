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
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

export const VERIFY_PROVENANCE_STEP = 'verify-provenance';

/** The last verify-provenance decision's facts; undefined when the step recorded none (its policy asked nothing). */
export function supplyChainOf(decisions: Decision[]): SupplyChainFacts | undefined {
  const d = decisions.filter((x) => x.step === VERIFY_PROVENANCE_STEP).at(-1);
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
  if (!f || (!f.provenance && !f.sbom && !f.refused)) return '';
  const items: string[] = [];
  if (f.refused) items.push(`<li class="v failed">refused: ${h(f.refused)}</li>`);
  if (f.provenance)
    items.push(
      `<li data-check="provenance">provenance: built by <code>${h(f.provenance.builder)}</code> from ${f.provenance.repository ? `${h(f.provenance.repository)} ` : ''}commit <code title="${h(f.provenance.commit)}">${h(f.provenance.commit.slice(0, 12))}</code>${f.provenance.keyid ? `, signed by key <code>${h(f.provenance.keyid.slice(0, 16))}</code>` : ''}</li>`,
    );
  if (f.sbom)
    items.push(`<li data-check="sbom">SBOM${f.sbom.specVersion ? ` (CycloneDX ${h(f.sbom.specVersion)})` : ''}: <span data-components="${f.sbom.components}">${f.sbom.components} components</span>, sha256 <code title="${h(f.sbom.sha256)}">${h(f.sbom.sha256.slice(0, 16))}</code></li>`);
  return `<section id="supply-chain"><h2>Supply chain</h2><ul>${items.join('')}</ul></section>`;
}
