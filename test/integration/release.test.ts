import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_LOCATIONS } from '../../local/runtime/runtime.js';
import { manifestKey } from '../../lambdas/lib/keys.js';
import { BAD_DIR, commitOf, demoConfig, environmentsEntered, startHarness, statesEntered, type Harness } from '../support/harness.js';

/**
 * The real release.asl.json, the real handlers, S3 and DynamoDB APIs on loopback, a local fleet.
 * Each test releases its own service (a copy of demo), so what it finds live is what it shipped.
 */

const SERVICES = ['shipped', 'red-tests', 'tampered', 'twice', 'together', 'smoke-fails', 'never-built'];

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: demoConfig({ services: SERVICES }) });
});
afterAll(async () => h?.close());

const release = (service: string, version: string, extra: Record<string, unknown> = {}) => h.rt.startExecution('release', { service, version, ...extra }).done;

/** A version of the service live and known-good in every environment, as a test's starting point. */
async function shipped(service: string, version: string): Promise<void> {
  await h.publish(version, { service });
  const s = await release(service, version);
  expect([s.status, s.error, s.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
}

async function get(service: string, env: string, path: string) {
  const endpoint = await h.rt.fleet.endpoint(service, env);
  const res = await fetch(endpoint + path);
  return { status: res.status, version: res.headers.get('x-tagflow-version'), body: await res.text() };
}

describe('release machine, end to end', () => {
  it('ships a green release through dev, staging and prod', async () => {
    const service = 'shipped';
    await h.publish('v1.0.0', { service });
    const s = await release(service, 'v1.0.0');

    expect(s.status).toBe('SUCCEEDED');
    const entered = statesEntered(s.history);
    expect(entered.indexOf('Tests gate')).toBeLessThan(entered.indexOf('Resolve artifact'));
    expect(entered.filter((n) => n === 'Smoke tests')).toHaveLength(3);
    expect(environmentsEntered(s.history)).toEqual(['dev', 'staging', 'prod']);
    for (const env of ['dev', 'staging', 'prod']) {
      const state = await h.rt.deps.ledger.getEnvironment(service, env);
      expect(state).toMatchObject({ version: 'v1.0.0', healthy: true, goodVersions: ['v1.0.0'] });
      expect(state?.lockHolder).toBeUndefined();
      expect(await get(service, env, '/health')).toMatchObject({ status: 200, version: 'v1.0.0' });
    }
    expect(await h.rt.deps.ledger.getOutcome(service, 'v1.0.0')).toMatchObject({ outcome: 'succeeded', environments: ['dev', 'staging', 'prod'] });
    const types = h.rt.emitted.filter((e) => (e.Detail as { service: string }).service === service && (e.Detail as { version: string }).version === 'v1.0.0').map((e) => e.DetailType);
    expect(types).toEqual(['Release Started', 'Stage Promoted', 'Stage Promoted', 'Stage Promoted', 'Release Succeeded']);
  });

  it('stops at TestsFailed on red CI results and promotes nothing', async () => {
    const service = 'red-tests';
    await shipped(service, 'v1.0.0');
    await h.publish('v1.0.1', { service, suites: [{ name: 'unit', passed: 11, failed: 1 }, { name: 'integration', passed: 3, failed: 0 }] });
    const s = await release(service, 'v1.0.1');

    expect(s).toMatchObject({ status: 'FAILED', error: 'TestsFailed' });
    expect(s.cause).toContain('unit (1 failed)');
    expect(statesEntered(s.history)).not.toContain('Resolve artifact');
    expect(await h.promotedAnywhere(service, 'v1.0.1')).toEqual([]);
    expect(await h.rt.deps.ledger.getOutcome(service, 'v1.0.1')).toMatchObject({ outcome: 'failed', error: 'TestsFailed' });
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.version).toBe('v1.0.0');
  });

  it('fails with ArtifactIntegrityError when a file does not match its SHA-256, promoting nothing', async () => {
    const service = 'tampered';
    await shipped(service, 'v1.0.0');
    await h.publish('v1.0.2', { service });
    // Tamper with the build after CI listed it: the bytes no longer match the manifest.
    const key = `builds/${service}/v1.0.2/files/app.mjs`;
    await h.rt.deps.store.put({ bucket: LOCAL_LOCATIONS.artifactsBucket, key }, 'export async function fetch() { return new Response("pwned"); }');
    const s = await release(service, 'v1.0.2');

    expect(s).toMatchObject({ status: 'FAILED', error: 'ArtifactIntegrityError' });
    expect(s.cause).toMatch(/app\.mjs .*manifest says/);
    expect(await h.promotedAnywhere(service, 'v1.0.2')).toEqual([]);
    expect((await h.rt.deps.ledger.getEnvironment(service, 'dev'))?.version).toBe('v1.0.0');
  });

  it('runs exactly one release when the same event arrives twice', async () => {
    const service = 'twice';
    await h.publish('v1.0.3', { service });
    const event = { source: 'tagflow', 'detail-type': 'Tag Pushed', detail: { repository: `acme/${service}`, tag: 'v1.0.3', commit: commitOf('v1.0.3') } };
    const first = h.rt.sendEvent(event);
    const second = h.rt.sendEvent(event);
    const [a, b] = await Promise.all([first.started[0]!.execution.done, second.started[0]!.execution.done]);

    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const claims = [a, b].map((s) => (s.output as { claim: { claimed: boolean } }).claim.claimed).sort();
    expect(claims).toEqual([false, true]);
    const releases = (await h.rt.deps.ledger.releases(service)).filter((r) => r.release.version === 'v1.0.3');
    expect(releases).toHaveLength(1);
    const deploys = (await h.rt.deps.ledger.decisions(service, 'v1.0.3')).filter((d) => d.step === 'deploy');
    expect(deploys.map((d) => d.environment)).toEqual(['dev', 'staging', 'prod']);
  });

  it('serialises two releases started together: one waits for the lock, the state stays consistent', async () => {
    const service = 'together';
    await h.publish('v1.1.1', { service });
    await h.publish('v1.1.2', { service });
    const [x, y] = await Promise.all([release(service, 'v1.1.1'), release(service, 'v1.1.2')]);

    const outcome = (s: typeof x) => (s.status === 'SUCCEEDED' ? 'SUCCEEDED' : s.error);
    // The older, v1.1.1, may also be refused where v1.1.2 was deployed while it waited for the lock: it never takes an environment back.
    expect(['SUCCEEDED', 'ReleaseLocked', 'VersionRegression']).toContain(outcome(x));
    expect(['SUCCEEDED', 'ReleaseLocked']).toContain(outcome(y));
    if (y.status === 'SUCCEEDED') for (const env of ['dev', 'staging', 'prod']) expect((await h.rt.deps.ledger.getEnvironment(service, env))!.version, env).toBe('v1.1.2');
    const waited = [x, y].some((s) => s.history.some((e) => e.type === 'StateRetried' && (e as unknown as { state: { name: string } }).state.name === 'Acquire environment lock'));
    expect(waited).toBe(true);
    for (const env of ['dev', 'staging', 'prod']) {
      const state = (await h.rt.deps.ledger.getEnvironment(service, env))!;
      expect(state.lockHolder).toBeUndefined();
      expect(state.healthy).toBe(true);
      // What the ledger says serves traffic is what the fleet serves.
      expect((await get(service, env, '/health')).version).toBe(state.version);
      expect(new Set(state.goodVersions).size).toBe(state.goodVersions.length);
    }
  });

  it('rolls an environment back to its previous version when smoke tests fail', async () => {
    const service = 'smoke-fails';
    const before = 'v1.1.0';
    await shipped(service, before);
    await h.publish('v2.0.0', { service, dir: BAD_DIR });
    const s = await release(service, 'v2.0.0');

    expect(s).toMatchObject({ status: 'FAILED', error: 'SmokeTestFailed' });
    expect(s.cause).toContain('/api/orders answered 500');
    const staging = (await h.rt.deps.ledger.getEnvironment(service, 'staging'))!;
    expect(staging).toMatchObject({ version: before, healthy: true, lastOutcome: 'rolled-back' });
    // The restored build answers, not the bad one's 500 (its upstream fails 1% of reads with a 503).
    const served = await get(service, 'staging', '/api/orders');
    expect(served.version).toBe(before);
    expect([200, 503]).toContain(served.status);
    expect(await h.promotedAnywhere(service, 'v2.0.0')).toEqual(['dev', 'staging']);
    expect(environmentsEntered(s.history)).toEqual(['dev', 'staging']);
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))!.version).toBe(before);
    // dev only checks /health, so v2.0.0 stays there: the failure was staging's.
    expect((await h.rt.deps.ledger.getEnvironment(service, 'dev'))!.version).toBe('v2.0.0');

    const outcome = await h.rt.deps.ledger.getOutcome(service, 'v2.0.0');
    expect(outcome).toMatchObject({ outcome: 'rolled-back', error: 'SmokeTestFailed', environments: ['dev'] });
    const rollback = (await h.rt.deps.ledger.decisions(service, 'v2.0.0')).find((d) => d.step === 'rollback');
    expect(rollback).toMatchObject({ environment: 'staging', verdict: 'done' });
    expect(rollback!.summary).toContain(`rolled staging back from v2.0.0 to ${before} — SmokeTestFailed: `);
    expect(outcome!.reason).toMatch(new RegExp(`; rolled staging back from v2\\.0\\.0 to ${before.replace(/\./g, '\\.')}$`));
    expect(h.rt.emitted.filter((e) => (e.Detail as { service: string }).service === service).at(-1)).toMatchObject({ DetailType: 'Release Rolled Back', Detail: { version: 'v2.0.0' } });
  });

  it('rejects a mistyped manual input at the first state, naming the field', async () => {
    const s = await h.rt.startExecution('release', { servce: 'demo', version: '1.2' }).done;

    expect(s).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
    expect(statesEntered(s.history)).toEqual(['Normalise input', 'Invalid input']);
    expect(s.cause).toContain('servce: unknown field; did you mean "service"?');
    expect(s.cause).toMatch(/version: "1\.2" is not a full semver tag/);
    expect(s.cause).toContain('{"service":"checkout","version":"v2.4.0"}');
  });

  it('names an unknown service and an out-of-order environment list', async () => {
    const a = await h.rt.startExecution('release', { service: 'billing', version: 'v1.0.0' }).done;
    expect(a).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
    expect(a.cause).toContain('no service "billing"');
    const b = await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0', environments: ['staging'] }).done;
    expect(b.cause).toContain('environments[0]');
  });

  it('fails clearly when the build was never uploaded', async () => {
    const service = 'never-built';
    await h.rt.deps.store.put({ bucket: LOCAL_LOCATIONS.artifactsBucket, key: `ci/${service}/${commitOf('v3.0.0')}.json` }, JSON.stringify({ service, commit: commitOf('v3.0.0'), finishedAt: 'x', suites: [{ name: 'unit', passed: 1, failed: 0 }, { name: 'integration', passed: 1, failed: 0 }] }));
    const s = await release(service, 'v3.0.0', { commit: commitOf('v3.0.0') });
    expect(s).toMatchObject({ status: 'FAILED', error: 'ArtifactNotFound' });
    expect(s.cause).toContain(manifestKey(service, 'v3.0.0'));
  });
});
