import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentFileKey } from '../../lambdas/lib/keys.js';
import { LOCAL_LOCATIONS } from '../../local/runtime/runtime.js';
import { statusTable } from '../../local/cli/status.js';
import { BAD_DIR, ROOT, demoConfig, startHarness, statesEntered, type Harness } from '../support/harness.js';

/**
 * A rollback that itself fails (here: the promoted copy of the known-good version was changed
 * after promotion, so the local target refuses it) through the real release.asl.json and
 * rollback.asl.json. The outcome says so: the environment is marked unhealthy with the version
 * that really serves, the history holds the failed rollback and why, `Release Rollback Failed`
 * is on the bus, and `status` no longer says the last thing there succeeded. Each test
 * releases its own service (a copy of demo).
 */

const config = demoConfig({ services: ['tampered-release', 'tampered-alarm'] });
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config });
});
afterAll(async () => h?.close());

/** Overwrites the promoted entry module of `version` in `environment`: its SHA-256 no longer matches the manifest. */
async function tamper(service: string, environment: string, version: string): Promise<void> {
  await h.rt.deps.store.put({ bucket: LOCAL_LOCATIONS.environmentsBucket, key: environmentFileKey(environment, service, version, 'app.mjs') }, 'export const fetch = () => new Response("changed after promotion");\n');
}

const emittedFor = (service: string, detailType: string) => h.rt.emitted.filter((e) => e.DetailType === detailType && (e.Detail as { service?: string }).service === service);

/** The status table's line of one environment, without colours. */
async function statusLine(service: string, environment: string): Promise<string> {
  const lines = (await statusTable(h.rt.deps.ledger, config, service)).map((l) => l.replace(/\u001b\[\d+m/g, ''));
  return lines.find((l) => l.trim().startsWith(`${environment} `))!;
}

describe('a rollback that fails', () => {
  it('inside a release: the environment is unhealthy on the bad version, the outcome and history say the rollback failed, and Release Rollback Failed is emitted', async () => {
    const service = 'tampered-release';
    await h.publish('v1.0.0', { service });
    expect((await h.rt.startExecution('release', { service, version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    // v1.1.0's orders endpoint fails staging's smoke tests; the copy of v1.0.0 to return to was changed.
    await tamper(service, 'staging', 'v1.0.0');
    await h.publish('v1.1.0', { service, dir: BAD_DIR });
    const s = await h.rt.startExecution('release', { service, version: 'v1.1.0' }).done;

    expect(s).toMatchObject({ status: 'FAILED', error: 'SmokeTestFailed' });
    expect(statesEntered(s.history)).toEqual(expect.arrayContaining(['Roll back environment', 'Record failed rollback', 'Emit Release Rollback Failed', 'Release lock after failure', 'Record failure']));
    // What serves = what the ledger says: v1.1.0 is still live in staging, and not healthy.
    expect(h.rt.fleet.version(service, 'staging')).toBe('v1.1.0');
    const staging = await h.rt.deps.ledger.getEnvironment(service, 'staging');
    expect(staging).toMatchObject({ version: 'v1.1.0', healthy: false, lastOutcome: 'rollback-failed' });
    expect(staging!.lockHolder).toBeUndefined();

    const failed = (await h.rt.deps.ledger.decisions(service, 'v1.1.0')).filter((d) => d.step === 'rollback');
    expect(failed.map((d) => [d.environment, d.verdict])).toEqual([['staging', 'failed']]);
    expect(failed[0]!.summary).toContain('rolling staging back from v1.1.0 to v1.0.0 failed: ArtifactIntegrityError');
    expect(failed[0]!.summary).toContain('staging serves v1.1.0, unhealthy');

    const outcome = await h.rt.deps.ledger.getOutcome(service, 'v1.1.0');
    expect(outcome).toMatchObject({ outcome: 'failed', error: 'SmokeTestFailed', rollbackFailed: { environment: 'staging', error: 'ArtifactIntegrityError', serving: 'v1.1.0' } });
    expect(outcome!.reason).toContain('rolling staging back from v1.1.0 to v1.0.0 failed');

    const [event] = emittedFor(service, 'Release Rollback Failed');
    expect(event?.Detail).toMatchObject({ service, version: 'v1.1.0', environment: 'staging', error: 'ArtifactIntegrityError', executionId: s.executionArn });
    expect(emittedFor(service, 'Release Failed')).toHaveLength(1);

    const line = await statusLine(service, 'staging');
    expect(line).toContain('unhealthy');
    expect(line).toContain('rollback-failed');
    expect(line).not.toContain('succeeded');
  });

  it('in the rollback machine: the same record, the alarm as the cause, and the execution fails with the rollback\'s error', async () => {
    const service = 'tampered-alarm';
    for (const version of ['v1.0.0', 'v1.1.0']) {
      await h.publish(version, { service });
      expect((await h.rt.startExecution('release', { service, version }).done).status).toBe('SUCCEEDED');
    }
    await tamper(service, 'prod', 'v1.0.0');
    const alarm = JSON.parse(readFileSync(join(ROOT, 'examples', 'events', 'alarm-state-alarm.json'), 'utf8')) as { resources: string[]; detail: { alarmName: string } };
    alarm.detail.alarmName = `${service}-prod-errors`;
    alarm.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${service}-prod-errors`];
    const { started } = h.rt.sendEvent(alarm);
    const rb = await started[0]!.execution.done;

    expect(rb).toMatchObject({ status: 'FAILED', error: 'ArtifactIntegrityError' });
    expect(statesEntered(rb.history)).toEqual(expect.arrayContaining(['Restore known-good version', 'Record failed rollback', 'Release lock after failure', 'Emit Release Rollback Failed']));
    expect(h.rt.fleet.version(service, 'prod')).toBe('v1.1.0');
    const prod = await h.rt.deps.ledger.getEnvironment(service, 'prod');
    expect(prod).toMatchObject({ version: 'v1.1.0', healthy: false, lastOutcome: 'rollback-failed' });
    expect(prod!.lockHolder).toBeUndefined();

    const failed = (await h.rt.deps.ledger.decisions(service, 'v1.1.0')).filter((d) => d.step === 'rollback');
    expect(failed.map((d) => [d.environment, d.verdict])).toEqual([['prod', 'failed']]);
    expect(failed[0]!.summary).toContain('rolling prod back from v1.1.0 to v1.0.0 failed: ArtifactIntegrityError');
    expect(failed[0]!.summary).toContain(`alarm ${service}-prod-errors`);

    const [event] = emittedFor(service, 'Release Rollback Failed');
    expect(event?.Detail).toMatchObject({ service, environment: 'prod', version: 'v1.1.0', toVersion: 'v1.0.0', error: 'ArtifactIntegrityError', executionId: rb.executionArn, trigger: 'alarm' });
    expect(emittedFor(service, 'Release Rolled Back')).toEqual([]);

    const line = await statusLine(service, 'prod');
    expect(line).toContain('unhealthy');
    expect(line).toContain('rollback-failed');
    expect(line).not.toContain('succeeded');
  });
});
