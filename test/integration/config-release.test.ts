import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doraFigures } from '../../lambdas/lib/dora.js';
import { manifestKey, buildFileKey } from '../../lambdas/lib/keys.js';
import { historyLines } from '../../local/cli/history.js';
import { publishConfig } from '../../local/runtime/ci.js';
import { LOCAL_LOCATIONS } from '../../local/runtime/runtime.js';
import { ROOT, demoConfig, startHarness, type Harness } from '../support/harness.js';

/**
 * Config-only releases through the real release.asl.json in the local runtime: the live build
 * shipped again with new variables, as its own version (`v1.0.0-config.N`), through every
 * environment, its smoke tests and its rollback. Each test releases its own service.
 */

const CONFIG_APP = join(ROOT, 'test', 'fixtures', 'config-release');
const bucket = LOCAL_LOCATIONS.artifactsBucket;
const plain = (lines: string[]) => lines.map((l) => l.replace(/\u001b\[\d+m/g, ''));

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: demoConfig({ services: ['recycled', 'misconfigured', 'tampered', 'counted', 'alarmed', 'unpublished', 'moved-on'] }) });
});
afterAll(async () => h?.close());

async function release(service: string, version: string) {
  return h.rt.startExecution('release', { service, version }).done;
}

/** v1.0.0 of the config-reading test build, live everywhere. */
async function liveBase(service: string): Promise<void> {
  await h.publish('v1.0.0', { service, dir: CONFIG_APP });
  expect((await release(service, 'v1.0.0')).status).toBe('SUCCEEDED');
}

async function served(service: string, environment: string, path: string): Promise<{ version: string | null; body: Record<string, unknown> }> {
  const res = await fetch(`${await h.rt.fleet.endpoint(service, environment)}${path}`);
  return { version: res.headers.get('x-tagflow-version'), body: (await res.json()) as Record<string, unknown> };
}

/** The sample alarm event, for the service's prod alarm (`SERVICE-prod-errors`). */
function alarm(service: string) {
  const e = JSON.parse(readFileSync(join(ROOT, 'examples', 'events', 'alarm-state-alarm.json'), 'utf8')) as { resources: string[]; detail: { alarmName: string } };
  e.detail.alarmName = e.detail.alarmName.replace(/^demo-/, `${service}-`);
  e.resources = e.resources.map((arn) => arn.replace(/:alarm:demo-/, `:alarm:${service}-`));
  return e;
}

describe('config-only release', () => {
  it('ships the live build again with new variables through every environment, recorded as a config release', async () => {
    const service = 'recycled';
    await liveBase(service);
    const manifest = await publishConfig(h.rt.deps.store, bucket, { service, version: 'v1.0.0-config.1', env: { GREETING: 'hi' } });
    expect(manifest).toMatchObject({ kind: 'config', base: 'v1.0.0', env: { GREETING: 'hi' }, entry: 'app.mjs' });

    const run = await release(service, 'v1.0.0-config.1');
    expect(run, `${run.error}: ${run.cause}`).toMatchObject({ status: 'SUCCEEDED' });
    for (const env of ['dev', 'staging', 'prod']) {
      expect(await h.rt.deps.ledger.getEnvironment(service, env)).toMatchObject({ version: 'v1.0.0-config.1', healthy: true });
      // The same code (the base's entry module) serving with the new variables.
      expect(await served(service, env, '/config')).toEqual({ version: 'v1.0.0-config.1', body: { version: 'v1.0.0-config.1', vars: { GREETING: 'hi' } } });
    }
    expect((await served(service, 'prod', '/api/orders')).body.greeting).toBe('hi');

    expect(await h.rt.deps.ledger.getRelease(service, 'v1.0.0-config.1')).toMatchObject({ releaseKind: 'config' });
    expect((await h.rt.deps.ledger.getRelease(service, 'v1.0.0'))!.releaseKind).toBeUndefined();
    const decisions = await h.rt.deps.ledger.decisions(service, 'v1.0.0-config.1');
    expect(decisions.find((d) => d.step === 'resolve-artifact')!.summary).toMatch(/^config release: the code of v1\.0\.0 with variables GREETING; 1 files/);
    expect(decisions.find((d) => d.step === 'deploy' && d.environment === 'prod')!.summary).toBe('prod now serves v1.0.0-config.1 (was v1.0.0): the code of v1.0.0 with variables GREETING');

    const history = plain(await historyLines(h.rt.deps.ledger, service));
    expect(history).toContainEqual(expect.stringMatching(/^v1\.0\.0-config\.1 {2}config release of v1\.0\.0 {2}succeeded {2}/));
    expect(history).toContainEqual(expect.stringMatching(/^v1\.0\.0 {2}succeeded {2}/));
  });

  it('rolls a config release whose smoke test fails back to the previous version, code and configuration', async () => {
    const service = 'misconfigured';
    await liveBase(service);
    await publishConfig(h.rt.deps.store, bucket, { service, version: 'v1.0.0-config.1', env: { GREETING: 'hi' } });
    expect((await release(service, 'v1.0.0-config.1')).status).toBe('SUCCEEDED');

    // No connections: the service answers its health check with 503.
    await publishConfig(h.rt.deps.store, bucket, { service, version: 'v1.0.0-config.2', env: { GREETING: 'hi', MAX_CONNECTIONS: '0' } });
    const run = await release(service, 'v1.0.0-config.2');
    expect(run).toMatchObject({ status: 'FAILED', error: 'SmokeTestFailed' });
    expect(await h.rt.deps.ledger.getOutcome(service, 'v1.0.0-config.2')).toMatchObject({ outcome: 'rolled-back', environments: [] });
    expect(await h.rt.deps.ledger.getEnvironment(service, 'dev')).toMatchObject({ version: 'v1.0.0-config.1', healthy: true });
    expect(await served(service, 'dev', '/config')).toEqual({ version: 'v1.0.0-config.1', body: { version: 'v1.0.0-config.1', vars: { GREETING: 'hi' } } });
    // It never went further than dev.
    expect((await h.rt.deps.ledger.getEnvironment(service, 'staging'))!.version).toBe('v1.0.0-config.1');
  });

  it('refuses a config release whose files are not the base build (nothing is promoted)', async () => {
    const service = 'tampered';
    await liveBase(service);
    await publishConfig(h.rt.deps.store, bucket, { service, version: 'v1.0.0-config.1', env: { GREETING: 'hi' } });
    // The code changed under the config version: its manifest lists the new bytes honestly, but they are not the base's.
    const key = manifestKey(service, 'v1.0.0-config.1');
    const m = JSON.parse(Buffer.from((await h.rt.deps.store.get({ bucket, key }))!).toString()) as { files: { path: string; size: number; sha256: string }[] };
    const changed = Buffer.from('export const fetch = () => new Response("other code");\n');
    const { sha256Hex } = await import('../../lambdas/lib/manifest.js');
    m.files[0] = { path: 'app.mjs', size: changed.byteLength, sha256: sha256Hex(changed) };
    await h.rt.deps.store.put({ bucket, key: buildFileKey(service, 'v1.0.0-config.1', 'app.mjs') }, changed);
    await h.rt.deps.store.put({ bucket, key }, JSON.stringify(m));

    const run = await release(service, 'v1.0.0-config.1');
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('ArtifactIntegrityError');
    const failed = (await h.rt.deps.ledger.decisions(service, 'v1.0.0-config.1')).find((d) => d.step === 'resolve-artifact')!;
    expect(failed.summary).toMatch(/does not ship the code of v1\.0\.0: its app\.mjs .* differs from the base's/);
    expect(await h.promotedAnywhere(service, 'v1.0.0-config.1')).toEqual([]);
    expect(h.rt.fleet.version(service, 'prod')).toBe('v1.0.0');
  });

  it('counts config releases apart from code deployments in the DORA figures', async () => {
    const service = 'counted';
    await liveBase(service);
    await publishConfig(h.rt.deps.store, bucket, { service, version: 'v1.0.0-config.1', env: { GREETING: 'hi' } });
    expect((await release(service, 'v1.0.0-config.1')).status).toBe('SUCCEEDED');
    const histories = await Promise.all((await h.rt.deps.ledger.releases(service)).map(async ({ release: r }) => ({ release: r, decisions: await h.rt.deps.ledger.decisions(service, r.version) })));
    const d = doraFigures(service, 'prod', histories, h.rt.deps.clock.now(), 7);
    expect(d).toMatchObject({ deployments: 1, succeeded: 1, failed: 0 });
    expect(d.config).toMatchObject({ deployments: 1, succeeded: 1, failed: 0, changeFailureRate: 0 });
  });

  it('an alarm after a config release rolls production back to the previous configuration of the same code', async () => {
    const service = 'alarmed';
    await liveBase(service);
    await publishConfig(h.rt.deps.store, bucket, { service, version: 'v1.0.0-config.1', env: { GREETING: 'hi' } });
    expect((await release(service, 'v1.0.0-config.1')).status).toBe('SUCCEEDED');
    await publishConfig(h.rt.deps.store, bucket, { service, version: 'v1.0.0-config.2', env: { GREETING: 'hey' } });
    expect((await release(service, 'v1.0.0-config.2')).status).toBe('SUCCEEDED');
    expect((await served(service, 'prod', '/config')).body.vars).toEqual({ GREETING: 'hey' });

    const { started } = h.rt.sendEvent(alarm(service));
    expect(started.map((s) => s.rule)).toEqual(['alarm-to-rollback']);
    expect((await started[0]!.execution.done).status).toBe('SUCCEEDED');
    expect(await h.rt.deps.ledger.getEnvironment(service, 'prod')).toMatchObject({ version: 'v1.0.0-config.1', healthy: true });
    expect(await served(service, 'prod', '/config')).toEqual({ version: 'v1.0.0-config.1', body: { version: 'v1.0.0-config.1', vars: { GREETING: 'hi' } } });
  });

  it('CI cannot publish a config release of a build that is not there, or under a version that is no config version', async () => {
    const service = 'unpublished';
    await expect(publishConfig(h.rt.deps.store, bucket, { service, version: 'v3.0.0-config.1', env: {} })).rejects.toThrow(/no build of unpublished v3\.0\.0 at s3:\/\/.*nothing uploaded/);
    await h.publish('v3.0.0', { service, dir: CONFIG_APP });
    await expect(publishConfig(h.rt.deps.store, bucket, { service, version: 'v3.0.1', env: {} })).rejects.toThrow(/--version v3\.0\.1 is not a config version/);
    await expect(publishConfig(h.rt.deps.store, bucket, { service, version: 'v3.0.0-config.1', env: { AWS_REGION: 'x' } })).rejects.toThrow(/env\.AWS_REGION: is reserved/);
    await expect(publishConfig(h.rt.deps.store, bucket, { service, version: 'v3.0.0-config.1', env: {}, files: { 'app.mjs': 'x' } })).rejects.toThrow(/config file app\.mjs would replace a file of the build v3\.0\.0/);
    expect(await h.rt.deps.store.get({ bucket, key: manifestKey(service, 'v3.0.0-config.1') })).toBeUndefined();
    // A config file beside the code is listed with its own hash.
    const m = await publishConfig(h.rt.deps.store, bucket, { service, version: 'v3.0.0-config.1', env: { GREETING: 'hi' }, files: { 'config/app.json': '{"greeting":"hi"}' } });
    expect(m.files.map((f) => f.path)).toEqual(['app.mjs', 'config/app.json']);
  });

  it('refuses a config release of a build older than what an environment runs: it would take the code back', async () => {
    const service = 'moved-on';
    await liveBase(service);
    await h.publish('v1.1.0', { service, dir: CONFIG_APP });
    expect((await release(service, 'v1.1.0')).status).toBe('SUCCEEDED');
    await publishConfig(h.rt.deps.store, bucket, { service, version: 'v1.0.0-config.1', env: { GREETING: 'hi' } });

    const run = await release(service, 'v1.0.0-config.1');
    expect(run).toMatchObject({ status: 'FAILED', error: 'VersionRegression' });
    expect(run.cause).toContain('dev runs v1.1.0');
    expect(h.rt.fleet.version(service, 'dev')).toBe('v1.1.0');
    expect(await h.promotedAnywhere(service, 'v1.0.0-config.1')).toEqual([]);
  });
});
