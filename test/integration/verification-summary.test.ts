import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verificationSummaryKey } from '../../lambdas/lib/keys.js';
import { supplyChainPolicy } from '../../lambdas/lib/supply-chain/config.js';
import { IN_TOTO_PAYLOAD_TYPE, keyIdOf, parseEnvelope, verifyEnvelope } from '../../lambdas/lib/supply-chain/dsse.js';
import { policyDigest, VSA_PREDICATE_TYPE, type VerificationSummary } from '../../lambdas/lib/supply-chain/vsa.js';
import { demoSupplyChain, publishDemoBuild } from '../../local/demo-supply-chain.js';
import { historyLines } from '../../local/cli/history.js';
import { reportTests } from '../../local/runtime/ci.js';
import { signingKeyPaths, verificationKeyPaths } from '../../local/runtime/local-signer.js';
import { LOCAL_LOCATIONS } from '../../local/runtime/runtime.js';
import { STEP_RUNS } from '../../local/runtime/step-runs.js';
import { BAD_DIR, commitOf, demoConfig, GOOD_DIR, GREEN, startHarness, type Harness } from '../support/harness.js';

/**
 * Verification summaries (issue 17) through the real release.asl.json: when an environment
 * records a version known-good, "Write verification summary" signs an SLSA VSA with the
 * pipeline's verification key (not CI's) and writes it beside the promoted copy.
 */

/** Services whose next "Write verification summary" stops the execution instead of running. */
const stopBeforeSummary = new Map<string, () => void>();
const attest = STEP_RUNS['attest-environment'];
STEP_RUNS['attest-environment'] = async (input, deps) => {
  const { service } = (input as { release: { service: string } }).release;
  const stop = stopBeforeSummary.get(service);
  if (!stop) return attest(input, deps);
  stopBeforeSummary.delete(service);
  stop();
  return { written: false };
};

describe('verification summaries', () => {
  let h: Harness;
  // Each test releases its own service, so they pass in any order.
  const config = demoConfig({ services: ['plain', 'failing', 'unsigned', 'stopped'] });
  const dataDir = mkdtempSync(join(tmpdir(), 'tagflow-vsa-'));
  let signer: ReturnType<typeof demoSupplyChain>;
  const envBucket = LOCAL_LOCATIONS.environmentsBucket;

  beforeAll(async () => {
    signer = demoSupplyChain(config, dataDir);
    for (const service of ['failing', 'unsigned', 'stopped']) config.services[service]!.supplyChain = config.services.demo!.supplyChain;
    h = await startHarness({ config, dataDir });
  });
  afterAll(async () => h?.close());

  async function published(version: string, { dir = GOOD_DIR, service = 'demo' } = {}) {
    await publishDemoBuild(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, signer, { service, version, commit: commitOf(version), dir, entry: 'app.mjs' });
    await reportTests(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, service, commitOf(version), GREEN);
  }
  const summaryOf = async (env: string, service: string, version: string) => {
    const bytes = await h.rt.deps.store.get({ bucket: envBucket, key: verificationSummaryKey(env, service, version) });
    return bytes && parseEnvelope(JSON.parse(Buffer.from(bytes).toString('utf8')), 'vsa');
  };

  it('writes one per known-good environment, signed by the verification key only, naming the promoted files, the policy and what was checked', async () => {
    await published('v1.0.0');
    const s = await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0', environments: ['dev', 'staging'] }).done;
    expect(s.status, JSON.stringify(s)).toBe('SUCCEEDED');
    const manifest = JSON.parse(Buffer.from((await h.rt.deps.store.get({ bucket: LOCAL_LOCATIONS.artifactsBucket, key: 'builds/demo/v1.0.0/manifest.json' }))!).toString('utf8')) as { files: { path: string; sha256: string }[] };

    for (const env of ['dev', 'staging']) {
      const envelope = (await summaryOf(env, 'demo', 'v1.0.0'))!;
      expect(envelope, env).toBeDefined();
      const verificationKey = readFileSync(verificationKeyPaths(dataDir).publicKey, 'utf8');
      expect(envelope.signatures[0]!.keyid).toBe(keyIdOf(verificationKey));
      const statement = JSON.parse(verifyEnvelope(envelope, verificationKey, IN_TOTO_PAYLOAD_TYPE, env).toString('utf8')) as VerificationSummary;
      // CI's key signs builds; it cannot vouch that they were verified.
      expect(() => verifyEnvelope(envelope, readFileSync(signingKeyPaths(dataDir).publicKey, 'utf8'), IN_TOTO_PAYLOAD_TYPE, env)).toThrow(/signed by key/);
      expect(statement.predicateType).toBe(VSA_PREDICATE_TYPE);
      expect(statement.subject).toEqual(manifest.files.map((f) => ({ name: f.path, digest: { sha256: f.sha256 } })));
      expect(statement.predicate.resourceUri).toBe(`s3://${envBucket}/${env}/demo/v1.0.0/`);
      expect(statement.predicate.verificationResult).toBe('PASSED');
      expect(statement.predicate.verifiedLevels).toEqual(['SLSA_BUILD_LEVEL_1', 'TAGFLOW_SIGNED_MANIFEST', 'TAGFLOW_SBOM', 'TAGFLOW_VULNERABILITY_GATE']);
      expect(statement.predicate.policy.digest!.sha256).toBe(policyDigest(supplyChainPolicy(undefined, config.services.demo!.supplyChain)));
      expect(statement.predicate.inputAttestations.map((a) => a.uri)).toEqual([
        's3://tagflow-artifacts/builds/demo/v1.0.0/manifest.json',
        's3://tagflow-artifacts/builds/demo/v1.0.0/manifest.dsse.json',
        's3://tagflow-artifacts/builds/demo/v1.0.0/provenance.intoto.json',
        's3://tagflow-artifacts/builds/demo/v1.0.0/sbom.cdx.json',
      ]);
    }
    const history = (await historyLines(h.rt.deps.ledger, 'demo', 'v1.0.0', config)).join('\n');
    expect(history).toMatch(/attest +dev +passed +verification summary \(SLSA VSA\) of v1\.0\.0 in dev: SLSA_BUILD_LEVEL_1, TAGFLOW_SIGNED_MANIFEST, TAGFLOW_SBOM, TAGFLOW_VULNERABILITY_GATE, signed by key [0-9a-f]{16} at s3:\/\/tagflow-environments\/dev\/demo\/v1\.0\.0\/vsa\.dsse\.json/);
  });

  it('writes none where the version never became known-good', async () => {
    await published('v1.1.0', { dir: BAD_DIR, service: 'failing' });
    const s = await h.rt.startExecution('release', { service: 'failing', version: 'v1.1.0', environments: ['dev', 'staging'] }).done;
    expect(s.error).toBe('SmokeTestFailed');
    expect(await summaryOf('dev', 'failing', 'v1.1.0')).toBeDefined();
    expect(await summaryOf('staging', 'failing', 'v1.1.0')).toBeUndefined();
  });

  it('a summary that cannot be signed is recorded as such and the environment stays known-good', async () => {
    await published('v1.2.0', { service: 'unsigned' });
    const deps = h.rt.deps as { verificationSigner: unknown };
    const real = deps.verificationSigner;
    deps.verificationSigner = { keyid: async () => 'k', sign: async () => Promise.reject(new Error('KMS Sign: AccessDeniedException')) };
    try {
      const s = await h.rt.startExecution('release', { service: 'unsigned', version: 'v1.2.0', environments: ['dev'] }).done;
      expect(s.status).toBe('SUCCEEDED');
    } finally {
      deps.verificationSigner = real;
    }
    expect(await summaryOf('dev', 'unsigned', 'v1.2.0')).toBeUndefined();
    const d = (await h.rt.deps.ledger.decisions('unsigned', 'v1.2.0')).find((x) => x.step === 'attest');
    expect(d?.verdict).toBe('failed');
    expect(d?.summary).toBe('no verification summary of v1.2.0 in dev: KMS Sign: AccessDeniedException; dev stays known-good (the summary is evidence, not a gate)');
    expect((await h.rt.deps.ledger.getEnvironment('unsigned', 'dev'))?.version).toBe('v1.2.0');
  });

  it('a release stopped after an environment recorded it known-good and before its summary: the reconciler names the missing summary', async () => {
    await published('v1.3.0', { service: 'stopped' });
    // A console "Stop execution" (no error, no cause) after dev recorded the version known-good,
    // before "Write verification summary" ran: its invocation is dropped, as a stopped execution's next Task never starts.
    const handle = h.rt.startExecution('release', { service: 'stopped', version: 'v1.3.0', environments: ['dev', 'staging'] });
    stopBeforeSummary.set('stopped', () => handle.abort());
    const s = await handle.done;
    expect(s.status).toBe('ABORTED');
    expect(await summaryOf('dev', 'stopped', 'v1.3.0')).toBeUndefined();
    expect((await h.rt.deps.ledger.getEnvironment('stopped', 'dev'))?.version).toBe('v1.3.0');
    const attest = (await h.rt.deps.ledger.decisions('stopped', 'v1.3.0')).filter((d) => d.step === 'attest');
    expect(attest.map((d) => [d.environment, d.verdict])).toEqual([['dev', 'failed']]);
    expect(attest[0]!.summary).toMatch(/^no verification summary of v1\.3\.0 in dev: the execution stopped \(ABORTED\)[^;]* after dev recorded it known-good and before the summary was written; dev stays known-good/);
    const history = (await historyLines(h.rt.deps.ledger, 'stopped', 'v1.3.0', config)).join('\n');
    expect(history).toMatch(/attest +dev +failed +no verification summary of v1\.3\.0 in dev: the execution stopped/);

    // Reconciling the same end again names it once.
    expect(s.reconciled?.notes).toContain('no verification summary of v1.3.0 in dev: the execution ended before it was written');
    const again = await h.rt.reconcileEnded({ executionArn: s.executionArn, machine: 'release', status: 'ABORTED', stoppedAt: s.stoppedAt! });
    expect(again?.notes.filter((n) => n.startsWith('no verification summary'))).toEqual([]);
    expect((await h.rt.deps.ledger.decisions('stopped', 'v1.3.0')).filter((d) => d.step === 'attest')).toHaveLength(1);
  });

  it('writes none for a service whose supplyChain asks nothing', async () => {
    await h.publish('v1.0.0', { service: 'plain' });
    const s = await h.rt.startExecution('release', { service: 'plain', version: 'v1.0.0', environments: ['dev'] }).done;
    expect(s.status).toBe('SUCCEEDED');
    expect(await summaryOf('dev', 'plain', 'v1.0.0')).toBeUndefined();
    expect((await h.rt.deps.ledger.decisions('plain', 'v1.0.0')).filter((d) => d.step === 'attest')).toEqual([]);
  });
});
