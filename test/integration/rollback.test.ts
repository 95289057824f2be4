import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD_DIR, ROOT, demoConfig, startHarness, statesEntered, type Harness } from '../support/harness.js';

/** The real rollback.asl.json, started by alarms and by hand, against the local runtime. */

const sample = (name: string) => JSON.parse(readFileSync(join(ROOT, 'examples', 'events', name), 'utf8')) as Record<string, unknown>;
const alarm = (value: 'ALARM' | 'OK') => {
  const e = sample('alarm-state-alarm.json');
  (e.detail as { state: { value: string } }).state.value = value;
  return e;
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  for (const v of ['v1.0.0', 'v1.1.0']) {
    await h.publish(v);
    expect((await h.rt.startExecution('release', { service: 'demo', version: v }).done).status).toBe('SUCCEEDED');
  }
});
afterAll(async () => h?.close());

const prod = () => h.rt.deps.ledger.getEnvironment('demo', 'prod');

describe('rollback machine', () => {
  it('restores the previous known-good version when an alarm fires, and records the alarm as the reason', async () => {
    expect((await prod())!.version).toBe('v1.1.0');
    const entered = performance.timeOrigin + performance.now();
    const { started } = h.rt.sendEvent(alarm('ALARM'));
    expect(started.map((s) => s.rule)).toEqual(['alarm-to-rollback']);
    const s = await started[0]!.execution.done;

    expect(s.status).toBe('SUCCEEDED');
    expect(statesEntered(s.history)).toContain('Restore known-good version');
    expect(await prod()).toMatchObject({ version: 'v1.0.0', healthy: true, lastOutcome: 'rolled-back' });
    expect(h.rt.fleet.version('demo', 'prod')).toBe('v1.0.0');
    const switched = h.rt.fleet.lastSwitch('demo', 'prod');
    expect(switched.version).toBe('v1.0.0');
    const msToKnownGood = switched.at! - entered;
    console.log(`alarm event → all prod traffic on v1.0.0: ${msToKnownGood.toFixed(0)} ms (smoke tests run after the switch)`);
    expect(msToKnownGood).toBeGreaterThan(0);

    const decision = (await h.rt.deps.ledger.decisions('demo', 'v1.1.0')).find((d) => d.step === 'rollback');
    expect(decision).toMatchObject({ environment: 'prod', verdict: 'done' });
    expect(decision!.summary).toContain('alarm demo-prod-errors');
    expect(h.rt.emitted.at(-1)).toMatchObject({ DetailType: 'Release Rolled Back', Detail: { version: 'v1.1.0', restoredVersion: 'v1.0.0', environment: 'prod' } });
    expect((await prod())!.lockHolder).toBeUndefined();
  });

  it('does not walk back further when the alarm flaps OK → ALARM → ALARM', async () => {
    const ok = h.rt.sendEvent(alarm('OK'));
    expect(ok.started).toEqual([]);
    expect(ok.unmatched).toContain('detail.state.value');
    const again = [h.rt.sendEvent(alarm('ALARM')), h.rt.sendEvent(alarm('ALARM'))];
    const results = await Promise.all(again.map((r) => r.started[0]!.execution.done));
    for (const r of results) {
      expect(r.status).toBe('SUCCEEDED');
      expect(statesEntered(r.history)).toContain('Nothing to roll back');
    }
    expect((await prod())!.version).toBe('v1.0.0');
  });

  it('starts one rollback when the same alarm fires twice at once for a bad version', async () => {
    await h.publish('v1.2.0');
    expect((await h.rt.startExecution('release', { service: 'demo', version: 'v1.2.0' }).done).status).toBe('SUCCEEDED');
    const runs = [h.rt.sendEvent(alarm('ALARM')), h.rt.sendEvent(alarm('ALARM'))];
    const results = await Promise.all(runs.map((r) => r.started[0]!.execution.done));
    const restored = results.filter((r) => statesEntered(r.history).includes('Restore known-good version'));
    expect(restored).toHaveLength(1);
    expect((await prod())!.version).toBe('v1.0.0');
    const rollbacks = (await h.rt.deps.ledger.decisions('demo', 'v1.2.0')).filter((d) => d.step === 'rollback' && d.verdict === 'done');
    expect(rollbacks).toHaveLength(1);
  });

  it('rolls back by hand to a named version that succeeded there before, and refuses one that did not', async () => {
    const bad = await h.rt.startExecution('rollback', { service: 'demo', environment: 'prod', reason: 'try', toVersion: 'v0.9.0' }).done;
    expect(bad).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
    expect(bad.cause).toContain('toVersion: v0.9.0 has not succeeded in prod before');

    const typo = await h.rt.startExecution('rollback', { service: 'demo', enviroment: 'prod', reason: 'x' }).done;
    expect(typo).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
    expect(typo.cause).toContain('enviroment: unknown field; did you mean "environment"?');

    const ok = await h.rt.startExecution('rollback', { service: 'demo', environment: 'staging', reason: 'checking v1.1.0 again', toVersion: 'v1.1.0' }).done;
    expect(ok.status).toBe('SUCCEEDED');
    expect((await h.rt.deps.ledger.getEnvironment('demo', 'staging'))!.version).toBe('v1.1.0');
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
