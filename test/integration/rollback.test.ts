import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD_DIR, ROOT, demoConfig, startHarness, statesEntered, type Harness } from '../support/harness.js';

/**
 * The real rollback.asl.json, started by alarms and by hand, against the local runtime. Each test
 * releases its own service (a copy of demo whose prod alarm is `SERVICE-prod-errors`) up to the
 * state it starts from.
 */

const sample = (name: string) => JSON.parse(readFileSync(join(ROOT, 'examples', 'events', name), 'utf8')) as Record<string, unknown>;
/** The sample alarm event, for the service's prod alarm. */
const alarm = (service: string, value: 'ALARM' | 'OK') => {
  const e = sample('alarm-state-alarm.json') as { resources: string[]; detail: { alarmName: string; state: { value: string } } };
  e.detail.alarmName = e.detail.alarmName.replace(/^demo-/, `${service}-`);
  e.resources = e.resources.map((arn) => arn.replace(/:alarm:demo-/, `:alarm:${service}-`));
  e.detail.state.value = value;
  return e;
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: demoConfig({ services: ['alarmed', 'flapping', 'alarmed-twice', 'by-hand'] }) });
});
afterAll(async () => h?.close());

const prod = (service: string) => h.rt.deps.ledger.getEnvironment(service, 'prod');

/** Ships each version in turn to every environment. */
async function shipped(service: string, ...versions: string[]): Promise<void> {
  for (const v of versions) {
    await h.publish(v, { service });
    expect((await h.rt.startExecution('release', { service, version: v }).done).status).toBe('SUCCEEDED');
  }
}

/** The rollback the service's prod alarm starts. */
async function alarmFires(service: string) {
  const { started } = h.rt.sendEvent(alarm(service, 'ALARM'));
  expect(started.map((s) => s.rule)).toEqual(['alarm-to-rollback']);
  return started[0]!.execution.done;
}

describe('rollback machine', () => {
  it('restores the previous known-good version when an alarm fires, and records the alarm as the reason', async () => {
    const service = 'alarmed';
    await shipped(service, 'v1.0.0', 'v1.1.0');
    expect((await prod(service))!.version).toBe('v1.1.0');
    const entered = h.rt.clock.now().getTime(); // the clock the fleet stamps its switches with
    const { started } = h.rt.sendEvent(alarm(service, 'ALARM'));
    expect(started.map((s) => s.rule)).toEqual(['alarm-to-rollback']);
    const s = await started[0]!.execution.done;

    expect(s.status).toBe('SUCCEEDED');
    expect(statesEntered(s.history)).toContain('Restore known-good version');
    expect(await prod(service)).toMatchObject({ version: 'v1.0.0', healthy: true, lastOutcome: 'rolled-back' });
    expect(h.rt.fleet.version(service, 'prod')).toBe('v1.0.0');
    const switched = h.rt.fleet.lastSwitch(service, 'prod');
    expect(switched.version).toBe('v1.0.0');
    const msToKnownGood = switched.at! - entered;
    console.log(`alarm event → all prod traffic on v1.0.0: ${msToKnownGood.toFixed(0)} ms (smoke tests run after the switch)`);
    expect(msToKnownGood).toBeGreaterThanOrEqual(0);

    const decision = (await h.rt.deps.ledger.decisions(service, 'v1.1.0')).find((d) => d.step === 'rollback');
    expect(decision).toMatchObject({ environment: 'prod', verdict: 'done' });
    expect(decision!.summary).toContain(`alarm ${service}-prod-errors`);
    const last = h.rt.emitted.filter((e) => (e.Detail as { service: string }).service === service).at(-1);
    expect(last).toMatchObject({ DetailType: 'Release Rolled Back', Detail: { version: 'v1.1.0', restoredVersion: 'v1.0.0', environment: 'prod' } });
    expect((await prod(service))!.lockHolder).toBeUndefined();
  });

  it('does not walk back further when the alarm flaps OK → ALARM → ALARM', async () => {
    const service = 'flapping';
    // v1.1.0 set off the alarm and was rolled back: v1.0.0 is live, with nothing known-good before it.
    await shipped(service, 'v1.0.0', 'v1.1.0');
    const first = await alarmFires(service);
    expect(statesEntered(first.history)).toContain('Restore known-good version');
    expect((await prod(service))!.version).toBe('v1.0.0');

    const ok = h.rt.sendEvent(alarm(service, 'OK'));
    expect(ok.started).toEqual([]);
    expect(ok.unmatched).toContain('detail.state.value');
    const again = [h.rt.sendEvent(alarm(service, 'ALARM')), h.rt.sendEvent(alarm(service, 'ALARM'))];
    const results = await Promise.all(again.map((r) => r.started[0]!.execution.done));
    for (const r of results) {
      expect(r.status).toBe('SUCCEEDED');
      expect(statesEntered(r.history)).toContain('Nothing to roll back');
    }
    expect((await prod(service))!.version).toBe('v1.0.0');
  });

  it('starts one rollback when the same alarm fires twice at once for a bad version', async () => {
    const service = 'alarmed-twice';
    await shipped(service, 'v1.0.0', 'v1.2.0');
    const runs = [h.rt.sendEvent(alarm(service, 'ALARM')), h.rt.sendEvent(alarm(service, 'ALARM'))];
    const results = await Promise.all(runs.map((r) => r.started[0]!.execution.done));
    const restored = results.filter((r) => statesEntered(r.history).includes('Restore known-good version'));
    expect(restored).toHaveLength(1);
    expect((await prod(service))!.version).toBe('v1.0.0');
    const rollbacks = (await h.rt.deps.ledger.decisions(service, 'v1.2.0')).filter((d) => d.step === 'rollback' && d.verdict === 'done');
    expect(rollbacks).toHaveLength(1);
  });

  it('rolls back by hand to a named version that succeeded there before, and refuses one that did not', async () => {
    const service = 'by-hand';
    await shipped(service, 'v1.1.0', 'v1.2.0');
    const bad = await h.rt.startExecution('rollback', { service, environment: 'prod', reason: 'try', toVersion: 'v0.9.0' }).done;
    expect(bad).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
    expect(bad.cause).toContain('toVersion: v0.9.0 has not succeeded in prod before');

    const typo = await h.rt.startExecution('rollback', { service, enviroment: 'prod', reason: 'x' }).done;
    expect(typo).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
    expect(typo.cause).toContain('enviroment: unknown field; did you mean "environment"?');

    expect((await h.rt.deps.ledger.getEnvironment(service, 'staging'))!.version).toBe('v1.2.0');
    const ok = await h.rt.startExecution('rollback', { service, environment: 'staging', reason: 'checking v1.1.0 again', toVersion: 'v1.1.0' }).done;
    expect(ok.status).toBe('SUCCEEDED');
    expect((await h.rt.deps.ledger.getEnvironment(service, 'staging'))!.version).toBe('v1.1.0');
  });

  it('stops a release that is still running in the environment before rolling back', async () => {
    const config = demoConfig();
    const [, staging, prodEnv] = config.services.demo!.environments;
    staging!.smoke = staging!.smoke.filter((c) => c.name === 'health');
    // prod retries /api/orders for ~3 s: v1.1.0 (whose orders endpoint fails) holds prod's lock meanwhile.
    prodEnv!.smoke = prodEnv!.smoke.map((c) => (c.name === 'orders' ? { ...c, retries: 15, retryDelayMs: 200 } : c));
    const other = await startHarness({ config });
    try {
      await other.publish('v1.0.0');
      await other.publish('v1.1.0', { dir: BAD_DIR });
      expect((await other.rt.startExecution('release', { service: 'demo', version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');

      const running = other.rt.startExecution('release', { service: 'demo', version: 'v1.1.0' });
      while ((await other.rt.deps.ledger.getEnvironment('demo', 'prod'))?.version !== 'v1.1.0') await new Promise((r) => setTimeout(r, 20));
      const rb = await other.rt.startExecution('rollback', { service: 'demo', environment: 'prod', reason: 'error spike during rollout' }).done;
      const release = await running.done;

      expect(rb.status).toBe('SUCCEEDED');
      expect(statesEntered(rb.history)).toContain('Stop running release');
      expect(release.status).toBe('ABORTED');
      const state = await other.rt.deps.ledger.getEnvironment('demo', 'prod');
      expect(state).toMatchObject({ version: 'v1.0.0', healthy: true, lastOutcome: 'rolled-back' });
      expect(state!.lockHolder).toBeUndefined();
      expect(other.rt.fleet.version('demo', 'prod')).toBe('v1.0.0');
    } finally {
      await other.close();
    }
  });
});
