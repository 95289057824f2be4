import type { PipelineConfig } from '../lambdas/lib/config.js';
import type { Ledger, ObjectStore } from '../lambdas/lib/ports.js';
import { supplyChainOf, type SupplyChainFacts } from '../lambdas/lib/report/supply-chain.js';
import type { MessageSigner } from '../lambdas/lib/supply-chain/dsse.js';
import { keygen } from './cli/keygen.js';
import { DEMO_BUILDER, DEMO_REPOSITORY, demoAttestations, uploadAttestations } from './runtime/attestations.js';
import { publishBuild, type PublishBuild } from './runtime/ci.js';
import { localSigner } from './runtime/local-signer.js';

/**
 * The demo's supply chain (issue 17): a key pair in its data dir (`tagflow local keygen`), and
 * for the demo service signatures, provenance from the demo's CI builder, an SBOM and the
 * vulnerability gate all required. examples/tagflow.config.json leaves them off, as a first
 * run of a new service has no key yet; the demo turns them on.
 */
export function demoSupplyChain(config: PipelineConfig, dataDir: string): MessageSigner {
  const demo = config.services.demo;
  if (!demo) throw new Error('the demo needs the demo service in its config');
  demo.supplyChain = { signatures: 'required', provenance: 'required', builders: [DEMO_BUILDER], repository: DEMO_REPOSITORY, sbom: 'required', maxSeverity: { critical: 0, high: 0 } };
  keygen(dataDir);
  return localSigner(dataDir)!;
}

/**
 * What the demo's CI does for one build: provenance signed with the pipeline's key and an SBOM
 * beside the build, then the signed manifest. The demo's service has no dependencies and its
 * scanner finds nothing: the SBOM says so with an empty `vulnerabilities` list, which is what
 * the gate reads for a zip build. Returns what it attached, for the demo's line.
 */
export async function publishDemoBuild(store: ObjectStore, bucket: string, signer: MessageSigner, b: PublishBuild): Promise<string> {
  const made = await demoAttestations({ dir: b.dir, service: b.service, version: b.version, commit: b.commit, signer });
  const sbom = { ...(JSON.parse(made.sbom) as { components?: unknown[] }), vulnerabilities: [] };
  await uploadAttestations(store, bucket, b.service, b.version, { provenance: made.provenance, sbom: JSON.stringify(sbom, null, 2) });
  await publishBuild(store, bucket, { ...b, signer });
  return `signed by key ${(await signer.keyid()).slice(0, 16)} with SLSA provenance and a CycloneDX SBOM (${sbom.components?.length ?? 0} components, no known vulnerabilities)`;
}

/**
 * The checks a release made before any environment changed, one line each, from what the ledger
 * recorded: Resolve artifact (signature, checksums), Verify provenance (its lines for provenance
 * and SBOM), Vulnerability gate; then the verification summaries written where it became known-good.
 */
export async function supplyChainLines(ledger: Ledger, service: string, version: string): Promise<{ lines: { check: string; passed: boolean; summary: string }[]; all: boolean }> {
  const decisions = await ledger.decisions(service, version);
  const of = (step: string) => decisions.find((d) => d.step === step && !d.environment);
  const line = (check: string, d: { verdict: string; summary: string } | undefined, summary = d?.summary) => ({ check, passed: d?.verdict === 'passed', summary: summary ?? 'not recorded' });
  const resolved = of('resolve-artifact');
  const verified = of('verify-provenance');
  const part = (name: string) => verified?.summary.split(/; (?=(?:provenance|SBOM): )/).find((p) => p.startsWith(`${name}: `))?.slice(name.length + 2);
  const lines = [
    // Resolve artifact passes an unsigned build where signatures are off: only the words "signed by" are a signature.
    line('signature', resolved?.summary.includes('manifest signed by') ? resolved : undefined, resolved?.summary.match(/manifest signed by .*$/)?.[0] ?? 'no signature recorded'),
    line('checksums', resolved, resolved?.summary.replace(/; manifest signed by .*$/, '')),
    line('provenance', verified, part('provenance') ?? verified?.summary),
    line('SBOM', verified, part('SBOM') ?? verified?.summary),
    line('vulnerability gate', of('vulnerability-gate')),
    summariesLine(supplyChainOf(decisions)?.summaries ?? []),
  ];
  return { lines, all: lines.every((l) => l.passed) };
}

/** The summaries as the report reads them (supplyChainOf): all written, and where, or why the first was not. */
function summariesLine(summaries: NonNullable<SupplyChainFacts['summaries']>) {
  const written = summaries.filter((v) => v.written);
  const first = written[0];
  const summary = first
    ? `signed SLSA VSA in ${written.map((v) => v.environment).join(', ')} (${first.verifiedLevels?.join(', ') ?? ''}), by the verification key ${first.keyid?.slice(0, 16) ?? ''}`
    : (summaries[0]?.summary ?? 'none recorded');
  return { check: 'verification summaries', passed: written.length > 0 && written.length === summaries.length, summary };
}
