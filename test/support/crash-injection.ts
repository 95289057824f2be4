import { expect } from 'vitest';
import { LocalRuntime, type ExecutionHandle } from '../../local/runtime/runtime.js';
import { BAD_DIR, demoConfig, GOOD_DIR, prodOf, startHarness, statesEntered, type Harness } from './harness.js';

/**
 * Crash injection (issue 12): a release stopped or killed at a chosen state of the real release
 * machine, and the invariants the reconciler must restore. test/integration/reconcile.test.ts and
 * the kill-point shards (reconcile-kill-points-*.test.ts) share it.
 */

export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
// A canary on prod that a test can pass through without traffic: one step at 50%, then 100%.
export const canaryService = (s: Parameters<typeof prodOf>[0]) => void Object.assign(prodOf(s).canary!, { steps: [50, 100], maxBakeSeconds: 60, onInconclusive: 'promote' });

/** Starts a release; `at` (state name) stops it there the first time it is entered, by `how`. */
export function release(rt: LocalRuntime, service: string, version: string, at?: { state: string; how: 'abort' | 'kill'; then?: (handle: ExecutionHandle) => Promise<void> }, extraInput: Record<string, unknown> = {}) {
  let hit = false;
  let during: Promise<void> | undefined;
  const handle: ExecutionHandle = rt.startExecution('release', { service, version, ...extraInput }, {
    onEvent: (e) => {
      const name = (e as { state?: { name: string } }).state?.name;
      if (e.type !== 'StateEntered') return;
      if (name === 'Bake canary') rt.clock.advanceTo(new Date(rt.clock.now().getTime() + 2 * 60_000));
      if (at && !hit && name === at.state) {
        hit = true;
        during = at.then?.(handle);
        if (at.how === 'abort') handle.abort({ error: 'CrashInjected', cause: `stopped at "${at.state}" by the test` });
        else handle.kill();
      }
    },
  });
  return {
    handle,
    done: handle.done.then(async (s) => {
      await during;
      return { summary: s, hit };
    }),
  };
}

/** The invariants of DESIGN.md, for one service with nothing running. */
export async function expectInvariants(rt: LocalRuntime, service: string, label: string): Promise<void> {
  for (const env of ENVIRONMENTS) {
    const s = await rt.deps.ledger.getEnvironment(service, env);
    // No lock held by a dead execution (nothing runs now).
    expect(s?.lockHolder, `${label}: lock of ${env}`).toBeUndefined();
    // No canary weight without a running release, in the ledger or in what serves.
    expect(s?.canary ?? null, `${label}: ledger canary in ${env}`).toBeNull();
    expect(rt.fleet.canary(service, env), `${label}: fleet canary in ${env}`).toBeUndefined();
    // What serves = what the ledger says.
    expect(rt.fleet.version(service, env), `${label}: serving in ${env}`).toBe(s?.version);
  }
  // Every release has an outcome, for its current attempt.
  for (const { release: r, outcome } of await rt.deps.ledger.releases(service)) {
    expect(outcome?.executionId, `${label}: outcome of ${r.version}`).toBe(r.executionId);
  }
}

/**
 * Stops a release at each state of the good path and of the bad path's own states (every
 * `of`-th one from `shard`, so the kill points can run in several files at once), checks the
 * invariants after each, and that the next release of a new version succeeds.
 */
export async function killPoints(shard: { index: number; of: number }): Promise<void> {
  const service = 'crashy';
  const h: Harness = await startHarness({ config: demoConfig({ canary: true, services: { crashy: canaryService } }), waits: { 'Bake canary': 0 } });
  try {
    const { rt, publish } = h;
    let n = 0;
    const next = () => `v1.${++n}.0`;
    const publishAnd = async (dir: string) => {
      const v = next();
      await publish(v, { service, dir });
      return v;
    };
    // A baseline everywhere, so prod runs a real canary; and a dry run of each path to learn its states.
    expect((await release(rt, service, await publishAnd(GOOD_DIR)).done).summary.status).toBe('SUCCEEDED');
    const good = await release(rt, service, await publishAnd(GOOD_DIR)).done;
    expect(good.summary.status).toBe('SUCCEEDED');
    const goodStates = [...new Set(statesEntered(good.summary.history))];
    expect(goodStates).toEqual(expect.arrayContaining(['Start canary', 'Bake canary', 'Judge canary', 'Shift canary traffic', 'Record success']));
    const bad = await release(rt, service, await publishAnd(BAD_DIR)).done;
    expect(bad.summary.status).toBe('FAILED');
    const badStates = [...new Set(statesEntered(bad.summary.history))].filter((s) => !goodStates.includes(s));
    expect(badStates).toEqual(expect.arrayContaining(['Roll back environment', 'Release lock after failure', 'Record failure']));

    const covered: string[] = [];
    const mine = [...goodStates.map((state) => [GOOD_DIR, state] as const), ...badStates.map((state) => [BAD_DIR, state] as const)].filter((_, i) => i % shard.of === shard.index);
    for (const [dir, state] of mine) {
      const version = await publishAnd(dir);
      const { summary, hit } = await release(rt, service, version, { state, how: 'abort' }).done;
      expect(hit, state).toBe(true);
      const label = `stopped at "${state}" (${version}, ended ${summary.status})`;
      await expectInvariants(rt, service, label);
      if (summary.status === 'ABORTED') {
        const outcome = await rt.deps.ledger.getOutcome(service, version);
        // Its own Catch path may have recorded the outcome before the stop took effect; otherwise the reconciler did.
        // (A release stopped before its claim has no record, so nothing to record; expectInvariants checked every record has its outcome.)
        if (summary.reconciled?.outcome) expect(outcome?.outcome, label).toBe('aborted');
        if (await rt.deps.ledger.getRelease(service, version)) expect(outcome, label).toBeDefined();
      }
      const after = await release(rt, service, await publishAnd(GOOD_DIR)).done;
      expect(after.summary.status, `next release after ${label}: ${after.summary.cause ?? ''}`).toBe('SUCCEEDED');
      await expectInvariants(rt, service, `after the next release, ${label}`);
      covered.push(state);
    }
    console.log(`crash injection, shard ${shard.index + 1} of ${shard.of}: ${covered.length} kill points covered: ${covered.join(', ')}`);
    expect(covered.length).toBe(mine.length);
    expect(covered.length).toBeGreaterThan(0);
  } finally {
    await h.close();
  }
}
