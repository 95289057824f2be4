import { describe, expect, it } from 'vitest';
import type { PipelineConfig } from '../../lambdas/lib/config.js';
import type { Serving } from '../../lambdas/lib/drift.js';
import type { PipelineEvent } from '../../lambdas/lib/ports.js';
import { detectDriftStep, type DetectDriftDeps } from '../../lambdas/lib/steps/detect-drift.js';
import type { DriftMark, EnvironmentState } from '../../lambdas/lib/types.js';

/** The drift check's core against an in-memory ledger whose conditional write can be made to lose. */

const config = { services: { api: { environments: [{ name: 'dev', target: { type: 'local' } }, { name: 'prod', target: { type: 'local' } }] } } } as unknown as PipelineConfig;
const T0 = new Date('2026-11-30T10:00:00Z');

function world() {
  const states = new Map<string, EnvironmentState>();
  for (const env of ['dev', 'prod']) states.set(env, { service: 'api', environment: env, version: 'v1.0.0', healthy: true, goodVersions: ['v1.0.0'], refs: { 'v1.0.0': 'v1.0.0' }, revision: 4 });
  const serving = new Map<string, Serving>([['dev', { ref: 'v1.0.0' }], ['prod', { ref: 'v1.0.0' }]]);
  const events: PipelineEvent[] = [];
  const info: string[] = [];
  let now = T0;
  let loseNextWrite = false;
  const deps: DetectDriftDeps = {
    config: async () => config,
    clock: { now: () => now, sleep: async () => {} },
    log: { info: (m) => void info.push(m), warn: () => {}, error: () => {} },
    events: { put: async (e) => void events.push(...e) },
    serving: () => ({ serving: async (_s, env) => serving.get(env) }),
    ledger: {
      getEnvironment: async (_s, env) => structuredClone(states.get(env)),
      markDrift: async (_s, env, mark: DriftMark | null, revision) => {
        const state = states.get(env)!;
        if (loseNextWrite || state.revision !== revision) return (loseNextWrite = false);
        states.set(env, { ...state, drift: mark, revision: revision + 1 });
        return true;
      },
    },
  };
  return { deps, states, serving, events, info, later: (ms: number) => void (now = new Date(now.getTime() + ms)), loseNextWrite: () => void (loseNextWrite = true) };
}

describe('detect-drift', () => {
  it('marks a drift and announces it with both sides', async () => {
    const w = world();
    w.serving.set('prod', { ref: 'v0.9.0' });
    const out = await detectDriftStep({}, w.deps);
    expect(out).toEqual({ checked: 2, marked: [{ service: 'api', environment: 'prod' }], known: [], cleared: [], skipped: [] });
    const detail = { service: 'api', environment: 'prod', expected: 'v1.0.0', actual: 'v0.9.0, which no release recorded here', differences: ['serves v0.9.0, which no release recorded here where the ledger has v1.0.0'], detectedAt: T0.toISOString() };
    expect(w.events).toEqual([{ Source: 'tagflow', DetailType: 'Drift Detected', Detail: detail }]);
    expect(w.states.get('prod')!.drift).toEqual({ detectedAt: detail.detectedAt, expected: detail.expected, actual: detail.actual, differences: detail.differences });
    expect(w.states.get('dev')!.drift).toBeUndefined();
  });

  it('announces the same drift once, a changed one again', async () => {
    const w = world();
    w.serving.set('prod', { ref: 'v0.9.0' });
    await detectDriftStep({}, w.deps);
    w.later(15 * 60_000);
    expect(await detectDriftStep({}, w.deps)).toMatchObject({ marked: [], known: [{ service: 'api', environment: 'prod' }] });
    expect(w.events).toHaveLength(1);
    expect(w.states.get('prod')!.drift!.detectedAt).toBe(T0.toISOString());

    w.serving.set('prod', { ref: 'v1.0.0', split: { ref: 'v0.9.0', weight: 30 } });
    expect(await detectDriftStep({}, w.deps)).toMatchObject({ marked: [{ service: 'api', environment: 'prod' }] });
    expect(w.events).toHaveLength(2);
    expect(w.states.get('prod')!.drift).toMatchObject({ detectedAt: '2026-11-30T10:15:00.000Z', actual: 'v1.0.0 with v0.9.0, which no release recorded here at 30%' });
  });

  it('an acknowledged drift found again stays acknowledged and unannounced', async () => {
    const w = world();
    w.serving.set('prod', { ref: 'v0.9.0' });
    await detectDriftStep({}, w.deps);
    const prod = w.states.get('prod')!;
    w.states.set('prod', { ...prod, drift: { ...prod.drift!, acknowledged: { by: 'alice', at: T0.toISOString(), reason: 'INC-7' } } });
    expect(await detectDriftStep({}, w.deps)).toMatchObject({ marked: [], known: [{ service: 'api', environment: 'prod' }] });
    expect(w.events).toHaveLength(1);
    expect(w.states.get('prod')!.drift!.acknowledged?.by).toBe('alice');
  });

  it('clears the mark when what serves agrees again, and logs it', async () => {
    const w = world();
    w.serving.set('dev', { ref: 'v0.9.0' });
    await detectDriftStep({}, w.deps);
    w.serving.set('dev', { ref: 'v1.0.0' });
    expect(await detectDriftStep({}, w.deps)).toMatchObject({ marked: [], cleared: [{ service: 'api', environment: 'dev' }] });
    expect(w.states.get('dev')!.drift).toBeNull();
    expect(w.info).toEqual(['drift cleared: what serves agrees with the ledger again']);
    expect(w.events).toHaveLength(1);
  });

  it('leaves a mark a concurrent write overtook to the next check, and says so', async () => {
    const w = world();
    w.serving.set('prod', { ref: 'v0.9.0' });
    w.loseNextWrite();
    const out = await detectDriftStep({}, w.deps);
    expect(out.marked).toEqual([]);
    expect(out.skipped).toEqual([{ service: 'api', environment: 'prod', why: expect.stringContaining('before it was marked; the next check looks again') }]);
    expect(w.states.get('prod')!.drift).toBeUndefined();
    // The next check marks it (and announces again: the first announcement was not recorded).
    expect((await detectDriftStep({}, w.deps)).marked).toEqual([{ service: 'api', environment: 'prod' }]);
  });

  it('skips an environment whose lock a release holds', async () => {
    const w = world();
    w.serving.set('prod', { ref: 'v0.9.0' });
    w.states.set('prod', { ...w.states.get('prod')!, lockHolder: 'arn:exec:abc', lockExpiresAt: T0.getTime() + 60_000 });
    const out = await detectDriftStep({}, w.deps);
    expect(out).toMatchObject({ checked: 1, marked: [], skipped: [{ service: 'api', environment: 'prod' }] });
    expect(w.events).toEqual([]);
  });
});
