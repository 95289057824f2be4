import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PipelineConfig } from '../../lambdas/lib/config.js';
import type { ClaimOutput } from '../../lambdas/lib/steps/claim.js';
import { statusTable } from '../../local/cli/status.js';
import { duplicateExitCode, interrupt } from '../../local/cli/main.js';
import { LocalRuntime, type ExecutionSummary } from '../../local/runtime/runtime.js';
import { canaryService, expectInvariants, release } from '../support/crash-injection.js';
import { BAD_DIR, demoConfig, GOOD_DIR, prodOf, startHarness, statesEntered, type Harness } from '../support/harness.js';

/**
 * Issue 12: an execution that ends without reaching its Catch (stopped, timed out, killed) is
 * reconciled: its canary weight removed, its locks released, its outcome recorded `aborted`,
 * `Release Aborted` put. Everything runs through the real ASL, handlers, dynalite and fleet.
 * Time is the runtime's clock, moved by the test: each "Bake canary" jumps past the bake bound,
 * so a canary with no traffic is inconclusive there and `onInconclusive: "promote"` moves it on.
 * The stop at every state of the machine is in reconcile-kill-points-*.test.ts.
 */

let h: Harness | undefined;
const extra: { rt: LocalRuntime; dataDir: string }[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const { rt, dataDir } of extra.splice(0)) {
    await rt.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

async function harness(config: PipelineConfig): Promise<Harness> {
  h = await startHarness({ config, waits: { 'Bake canary': 0 } });
  return h;
}

describe('crash injection: a release stopped while it waits for people, then reconciled', () => {
  it(
    'keeps every invariant when stopped while waiting for people: an emergency\'s approvals and a held canary\'s decision',
    async () => {
      const service = 'waits';
      // Prod frozen (an emergency needs two approvers), and a canary that holds for a decision when inconclusive.
      const config = demoConfig({
        canary: true,
        services: { waits: (svc) => void Object.assign(prodOf(svc).canary!, { steps: [50, 100], maxBakeSeconds: 60, onInconclusive: 'hold' }) },
        policy: { approvers: ['alice', 'bob', 'carol'], freezes: [{ name: 'year-end', from: '2026-12-21T00:00:00Z', to: '2027-01-04T00:00:00Z', environments: ['prod'] }] },
      });
      const offset = Date.parse('2026-12-22T10:00:00Z') - Date.now();
      h = await startHarness({ config, waits: { 'Bake canary': 0 }, clock: { now: () => new Date(Date.now() + offset), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) } });
      const { rt, publish } = h;
      // People who approve whatever is asked, as soon as it is asked (an aborted execution's request no longer waits: ignored).
      rt.onApprovalRequested((request) => {
        void (async () => {
          for (const who of request.needed > 1 ? ['alice', 'bob'] : ['alice']) await rt.approve(request, who);
        })().catch(() => undefined);
      });
      let n = 0;
      const next = async () => {
        const v = `v2.${++n}.0`;
        await publish(v, { service, dir: GOOD_DIR });
        return v;
      };
      const emergency = { emergency: { reason: 'hotfix during the freeze' } };
      expect((await release(rt, service, await next(), undefined, emergency).done).summary.status).toBe('SUCCEEDED');
      const dry = await release(rt, service, await next(), undefined, emergency).done;
      expect(dry.summary.status, dry.summary.cause).toBe('SUCCEEDED');
      const waiting = ['Prepare approval request', 'Request approval', 'Verify approval', 'Prepare canary hold', 'Hold canary', 'Verify canary hold'];
      expect(statesEntered(dry.summary.history)).toEqual(expect.arrayContaining(waiting));

      const covered: string[] = [];
      for (const state of waiting) {
        const version = await next();
        const { summary, hit } = await release(rt, service, version, { state, how: 'abort' }, emergency).done;
        expect(hit, state).toBe(true);
        const label = `stopped at "${state}" (${version}, ended ${summary.status})`;
        await expectInvariants(rt, service, label);
        const after = await release(rt, service, await next(), undefined, emergency).done;
        expect(after.summary.status, `next release after ${label}: ${after.summary.cause ?? ''}`).toBe('SUCCEEDED');
        await expectInvariants(rt, service, `after the next release, ${label}`);
        covered.push(state);
      }
      console.log(`crash injection while waiting for people: ${covered.length} kill points covered: ${covered.join(', ')}`);
      expect(covered).toEqual(waiting);
    },
    600_000,
  );
});

describe('the reconciler', () => {
  it('removes a stopped release\'s canary weight, releases its lock, records it aborted with why, and emits Release Aborted; running it again changes nothing', async () => {
    const service = 'stopped-canary';
    const { rt, publish } = await harness(demoConfig({ canary: true, services: { [service]: canaryService } }));
    await publish('v1.0.0', { service });
    expect((await release(rt, service, 'v1.0.0').done).summary.status).toBe('SUCCEEDED');
    await publish('v1.1.0', { service });
    const { summary } = await release(rt, service, 'v1.1.0', { state: 'Judge canary', how: 'abort' }).done;
    expect(summary.status).toBe('ABORTED');
    expect(summary.reconciled).toMatchObject({
      canariesRemoved: [{ service, environment: 'prod', version: 'v1.1.0', weight: 50 }],
      locksReleased: [{ service, environment: 'prod' }],
      outcome: { outcome: 'aborted' },
      emitted: true,
    });
    expect(rt.fleet.canary(service, 'prod')).toBeUndefined();
    expect(rt.fleet.version(service, 'prod')).toBe('v1.0.0');
    const outcome = await rt.deps.ledger.getOutcome(service, 'v1.1.0');
    expect(outcome).toMatchObject({ outcome: 'aborted', error: 'CrashInjected', executionId: summary.executionArn });
    expect(outcome!.reason).toContain('stopped at "Judge canary" by the test');
    const aborted = rt.emitted.filter((e) => e.DetailType === 'Release Aborted');
    expect(aborted).toHaveLength(1);
    expect(aborted[0]!.Detail).toMatchObject({ service, version: 'v1.1.0', executionId: summary.executionArn, status: 'ABORTED', error: 'CrashInjected' });

    // Twice, or late: nothing more.
    const again = await rt.reconcileEnded({ executionArn: summary.executionArn, machine: 'release', status: 'ABORTED', stoppedAt: summary.stoppedAt, error: 'CrashInjected' });
    expect(again).toMatchObject({ canariesRemoved: [], locksReleased: [], emitted: false });
    expect(again?.outcome).toBeUndefined();
    expect(rt.emitted.filter((e) => e.DetailType === 'Release Aborted')).toHaveLength(1);
  }, 120_000);

  it('at start, reconciles the executions of a process that is gone (kill -9): canary, lock and outcome, reloaded fleet included', async () => {
    const service = 'killed';
    const config = demoConfig({ canary: true, services: { [service]: canaryService } });
    const dataDir = mkdtempSync(join(tmpdir(), 'tagflow-test-'));
    const first = await LocalRuntime.start({ dataDir, config, waits: { 'Bake canary': 0 } });
    const { publishBuild, reportTests } = await import('../../local/runtime/ci.js');
    const { GREEN, commitOf } = await import('../support/harness.js');
    for (const v of ['v1.0.0', 'v1.1.0']) {
      await publishBuild(first.deps.store, 'tagflow-artifacts', { service, version: v, commit: commitOf(v), dir: GOOD_DIR, entry: 'app.mjs' });
      await reportTests(first.deps.store, 'tagflow-artifacts', service, commitOf(v), GREEN);
    }
    expect((await release(first, service, 'v1.0.0').done).summary.status).toBe('SUCCEEDED');
    const { summary } = await release(first, service, 'v1.1.0', { state: 'Judge canary', how: 'kill' }).done;
    // Killed: nothing reconciled it, so the canary and the lock are still there.
    expect(summary.reconciled).toBeUndefined();
    expect((await first.deps.ledger.getEnvironment(service, 'prod'))?.canary?.weight).toBe(50);
    expect(first.fleet.canary(service, 'prod')).toEqual({ version: 'v1.1.0', weight: 50 });
    await first.close();

    const second = await LocalRuntime.start({ dataDir, config, isProcessAlive: () => false });
    extra.push({ rt: second, dataDir });
    expect(second.recovered).toHaveLength(1);
    expect(second.recovered[0]).toMatchObject({ executionArn: summary.executionArn, canariesRemoved: [{ environment: 'prod', version: 'v1.1.0', weight: 50 }], locksReleased: [{ environment: 'prod' }], outcome: { outcome: 'aborted' } });
    expect(second.fleet.canary(service, 'prod')).toBeUndefined();
    expect(second.fleet.version(service, 'prod')).toBe('v1.0.0');
    expect(await second.deps.ledger.getOutcome(service, 'v1.1.0')).toMatchObject({ outcome: 'aborted', error: 'ProcessGone' });
    await expectInvariants(second, service, 'after the restart');
  }, 120_000);

  it('Ctrl-C in the CLI stops the running release and reconciles it, recording who', async () => {
    const service = 'interrupted';
    const { rt, publish } = await harness(demoConfig({ canary: true, services: { [service]: canaryService } }));
    await publish('v1.0.0', { service });
    expect((await release(rt, service, 'v1.0.0').done).summary.status).toBe('SUCCEEDED');
    await publish('v1.1.0', { service });
    let code: number | undefined;
    const { summary } = await release(rt, service, 'v1.1.0', { state: 'Judge canary', how: 'abort', then: async () => void (code = await interrupt(rt, 'SIGINT')) }).done;
    expect(code).toBe(130);
    expect(summary.status).toBe('ABORTED');
    expect(rt.fleet.canary(service, 'prod')).toBeUndefined();
    const outcome = await rt.deps.ledger.getOutcome(service, 'v1.1.0');
    expect(outcome).toMatchObject({ outcome: 'aborted', error: 'SIGINT' });
    expect(outcome!.reason).toMatch(/tagflow process \d+ of .+ got SIGINT/);
  }, 120_000);
});

describe('a version that did not deploy may be retried; one that did stays immutable', () => {
  it('answers DUPLICATE with what happened to the earlier attempt; retry of a failed attempt that deployed nothing runs attempt 2', async () => {
    const service = 'retried';
    const { rt, publish } = await harness(demoConfig({ services: [service] }));
    await publish('v2.0.0', { service, suites: [{ name: 'unit', passed: 3, failed: 1 }, { name: 'integration', passed: 1, failed: 0 }] });
    const first = await release(rt, service, 'v2.0.0').done;
    expect(first.summary.status).toBe('FAILED');
    expect((await rt.deps.ledger.getOutcome(service, 'v2.0.0'))?.outcome).toBe('failed');

    const again = await release(rt, service, 'v2.0.0').done;
    expect(statesEntered(again.summary.history)).toContain('Duplicate ignored');
    const claim = (again.summary.output as { claim: ClaimOutput }).claim;
    expect(claim).toMatchObject({ claimed: false, earlier: { outcome: 'failed', retryable: true, reached: [] } });
    if (claim.claimed) throw new Error('unreachable');
    expect(claim.reason).toMatch(/^DUPLICATE: .* failed: TestsFailed.*nothing was deployed, so this version may be released again: start it with "retry": true/);
    // `tagflow local release` exits non-zero: the earlier attempt did not succeed.
    expect(duplicateExitCode(again.summary)).toBe(1);

    await publish('v2.0.0', { service }); // CI re-ran the tests: green now
    const retry = await release(rt, service, 'v2.0.0', undefined, { retry: true }).done;
    expect(retry.summary.status).toBe('SUCCEEDED');
    const record = await rt.deps.ledger.getRelease(service, 'v2.0.0');
    expect(record).toMatchObject({ attempt: 2, executionId: retry.summary.executionArn, attempts: [{ attempt: 1, executionId: first.summary.executionArn, outcome: 'failed' }] });
    expect(await rt.deps.ledger.getOutcome(service, 'v2.0.0')).toMatchObject({ outcome: 'succeeded', attempt: 2, executionId: retry.summary.executionArn });
    await expectInvariants(rt, service, 'after the retry');
    // A duplicate of a release that succeeded is a no-op, exit 0, and says to tag a new version.
    const duplicate = await release(rt, service, 'v2.0.0').done;
    const dup = (duplicate.summary.output as { claim: ClaimOutput }).claim;
    expect(dup).toMatchObject({ claimed: false, earlier: { outcome: 'succeeded', attempt: 2 } });
    expect(duplicateExitCode(duplicate.summary)).toBe(0);
  }, 120_000);

  it('refuses to retry a version that reached an environment, and says so', async () => {
    const service = 'immutable';
    const { rt, publish } = await harness(demoConfig({ services: [service] }));
    await publish('v1.0.0', { service });
    expect((await release(rt, service, 'v1.0.0').done).summary.status).toBe('SUCCEEDED');
    await publish('v1.1.0', { service, dir: BAD_DIR });
    expect((await release(rt, service, 'v1.1.0').done).summary.status).toBe('FAILED');
    const retry = await release(rt, service, 'v1.1.0', undefined, { retry: true }).done;
    const claim = (retry.summary.output as { claim: ClaimOutput }).claim;
    expect(claim).toMatchObject({ claimed: false, earlier: { outcome: 'rolled-back', retryable: false } });
    if (claim.claimed) throw new Error('unreachable');
    expect(claim.earlier.reached).toContain('dev');
    expect(claim.reason).toContain('a version is immutable once it reached one, so tag a new version');
    expect(claim.reason).toContain('retry refused: it reached an environment');
  }, 120_000);
});

describe('locks of dead holders', () => {
  it('a release waiting for a lock whose holder was killed takes it over (reconciling the holder) instead of failing ReleaseLocked', async () => {
    const service = 'orphan-lock';
    const { rt, publish } = await harness(demoConfig({ services: [service] }));
    await publish('v1.0.0', { service });
    const killed = await release(rt, service, 'v1.0.0', { state: 'Promote', how: 'kill' }).done;
    expect(killed.summary.reconciled).toBeUndefined();
    const held = await rt.deps.ledger.getEnvironment(service, 'dev');
    expect(held?.lockHolder).toBe(killed.summary.executionArn);
    expect(rt.executionStatus(killed.summary.executionArn)).toBe('ABORTED');

    await publish('v1.1.0', { service });
    const next = await release(rt, service, 'v1.1.0').done;
    expect(next.summary.status, next.summary.cause).toBe('SUCCEEDED');
    expect(await rt.deps.ledger.getOutcome(service, 'v1.0.0')).toMatchObject({ outcome: 'aborted', error: 'HolderGone' });
    await expectInvariants(rt, service, 'after the takeover');
  }, 120_000);

  it('the release machine waits for a lock at least as long as the lock lives (stack default 30 min, local 15 min)', async () => {
    const { readFileSync } = await import('node:fs');
    const { ROOT } = await import('../support/harness.js');
    const asl = JSON.parse(readFileSync(join(ROOT, 'state-machines', 'release.asl.json'), 'utf8')) as { States: Record<string, { Retry?: { ErrorEquals: string[]; IntervalSeconds: number; MaxAttempts: number; BackoffRate?: number }[] }> };
    const retry = asl.States['Acquire environment lock']!.Retry!.find((r) => r.ErrorEquals.includes('ReleaseLocked'))!;
    let total = 0;
    for (let i = 0; i < retry.MaxAttempts; i++) total += retry.IntervalSeconds * (retry.BackoffRate ?? 2) ** i;
    expect(total).toBeGreaterThanOrEqual(30 * 60);
  });
});

describe('tagflow status', () => {
  it('shows a canary in progress (version, weight), the lock holder and its expiry, and whether the holder is alive', async () => {
    const service = 'watched';
    const config = demoConfig({ canary: true, services: { [service]: canaryService } });
    const { rt, publish } = await harness(config);
    await publish('v1.0.0', { service });
    expect((await release(rt, service, 'v1.0.0').done).summary.status).toBe('SUCCEEDED');
    await publish('v1.1.0', { service });
    const strip = (lines: string[]) => lines.map((l) => l.replace(/\u001b\[\d+m/g, '')).join('\n');
    const killed = await release(rt, service, 'v1.1.0', { state: 'Judge canary', how: 'kill' }).done;
    const name = killed.summary.name;
    const now = rt.clock.now();
    const after = strip(await statusTable(rt.deps.ledger, config, service, { executions: rt.deps.executions!, now }));
    expect(after).toMatch(/canary v1\.1\.0 at 50% .*; v1\.0\.0 takes the rest/);
    const expires = (await rt.deps.ledger.getEnvironment(service, 'prod'))!.lockExpiresAt!;
    expect(after).toContain(`locked by ${name} until ${new Date(expires).toISOString()}, holder not running (ABORTED)`);
    // The same lock, its holder alive (another process runs it): said so.
    const alive = strip(await statusTable(rt.deps.ledger, config, service, { executions: { status: async () => 'RUNNING' }, now }));
    expect(alive).toContain(`locked by ${name} until ${new Date(expires).toISOString()}, holder running`);
  }, 120_000);
});

export type { ExecutionSummary };
