import { describe, expect, it } from 'vitest';
import { supplyChainOf, supplyChainSection } from '../../lambdas/lib/report/supply-chain.js';
import type { Decision } from '../../lambdas/lib/types.js';

const d = (verdict: Decision['verdict'], summary: string, evidence?: unknown): Decision => ({ releaseId: 'shop@v1.0.0', service: 'shop', version: 'v1.0.0', at: '2026-11-30T12:00:00.000Z', step: 'verify-provenance', verdict, summary, evidence });
const SHA = 'f'.repeat(64);

describe("the report's supply-chain lines", () => {
  it('show the builder, commit, key and the SBOM\'s component count and digest', () => {
    const facts = supplyChainOf([d('passed', 'ok', { provenance: { builder: 'https://ci/<b>', commit: 'a'.repeat(40), repository: 'git+https://github.com/acme/shop', keyid: 'k'.repeat(64) }, sbom: { components: 42, sha256: SHA, specVersion: '1.5' } })]);
    expect(facts).toEqual({ provenance: { builder: 'https://ci/<b>', commit: 'a'.repeat(40), repository: 'git+https://github.com/acme/shop', keyid: 'k'.repeat(64) }, sbom: { components: 42, sha256: SHA, specVersion: '1.5' } });
    const html = supplyChainSection(facts);
    expect(html).toContain('built by <code>https://ci/&lt;b&gt;</code>');
    expect(html).toContain('<span data-components="42">42 components</span>, sha256 <code title="' + SHA + '">ffffffffffffffff</code>');
    expect(html).toContain('signed by key <code>kkkkkkkkkkkkkkkk</code>');
  });

  it('show a refusal, leave out evidence of another shape, and say nothing when the step recorded nothing', () => {
    expect(supplyChainOf([d('failed', 'provenance names commit b… but the release is for a…')])).toEqual({ refused: 'provenance names commit b… but the release is for a…' });
    expect(supplyChainOf([d('passed', 'ok', { provenance: { builder: 7 }, sbom: { components: '3' } })])).toEqual({});
    expect(supplyChainOf([])).toBeUndefined();
    expect(supplyChainSection(undefined)).toBe('');
    expect(supplyChainSection({})).toBe('');
  });

  it('show the vulnerability gate and each environment\'s verification summary, or why one was not written', () => {
    const at = (step: string, environment: string | undefined, verdict: Decision['verdict'], summary: string, evidence?: unknown): Decision => ({ ...d(verdict, summary, evidence), step, ...(environment ? { environment } : {}) });
    const facts = supplyChainOf([
      at('vulnerability-gate', undefined, 'passed', 'no findings within supplyChain.maxSeverity'),
      at('attest', 'dev', 'passed', 'verification summary …', { uri: 's3://env/dev/shop/v1.0.0/vsa.dsse.json', keyid: 'b'.repeat(64), verifiedLevels: ['SLSA_BUILD_LEVEL_1', 'TAGFLOW_SBOM'] }),
      at('attest', 'prod', 'failed', 'no verification summary of v1.0.0 in prod: <denied>; prod stays known-good'),
    ]);
    expect(facts?.summaries?.map((s) => [s.environment, s.written])).toEqual([['dev', true], ['prod', false]]);
    const html = supplyChainSection(facts);
    expect(html).toContain('<li data-check="vulnerabilities" class="v passed">vulnerability gate: no findings within supplyChain.maxSeverity</li>');
    expect(html).toContain('verification summary in dev: SLSA_BUILD_LEVEL_1, TAGFLOW_SBOM, signed by key <code title="' + 'b'.repeat(64) + '">bbbbbbbbbbbbbbbb</code> at <code>s3://env/dev/shop/v1.0.0/vsa.dsse.json</code>');
    expect(html).toContain('class="v failed">no verification summary of v1.0.0 in prod: &lt;denied&gt;; prod stays known-good</li>');
  });
});
