import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawEnvironment, RawService } from '../support/harness.js';
import { demoConfig, environmentsEntered, ROOT, startHarness, statesEntered, type Harness } from '../support/harness.js';
import type { EnvironmentState } from '../../lambdas/lib/types.js';

/**
 * Pre-traffic checks through the real release.asl.json and the local fleet (issue 15): the new
 * version runs on its own server, the checks call it there, and only then does traffic move.
 */

const CRASH_DIR = join(ROOT, 'test', 'fixtures', 'pre-traffic', 'crash');
const UNHEALTHY_DIR = join(ROOT, 'test', 'fixtures', 'pre-traffic', 'unhealthy');

const PRE_TRAFFIC = [{ name: 'health', path: '/health', jsonPath: '$.ok', equals: true, retries: 1, retryDelayMs: 20 }];
const withPreTraffic = (envs: string[]) => (svc: RawService) => {
  for (const env of svc.environments as RawEnvironment[]) if (envs.includes(env.name)) env.preTraffic = PRE_TRAFFIC;
};

let h: Harness;
beforeAll(async () => {
  const everywhere = withPreTraffic(['dev', 'staging', 'prod']);
  h = await startHarness({
    config: demoConfig({
      canary: true,
      services: {
        'pt-good': everywhere,
        'pt-crash': everywhere,
        'pt-unhealthy': everywhere,
        // prod alone, with its canary: the checks come before the canary's first step too.
        'pt-canary': (svc) => {
          svc.environments = svc.environments.filter((e) => e.name === 'prod');
          withPreTraffic(['prod'])(svc);
        },
      },
    }),
  });
});
afterAll(async () => h?.close());

const release = (service: string, version: string) => h.rt.startExecution('release', { service, version }).done;
const env = async (service: string, name: string) => (await h.rt.deps.ledger.getEnvironment(service, name))!;
/** An environment's state apart from its lock, which the failed release took and gave back. */
const settled = ({ lockHolder: _h, lockExpiresAt: _e, revision: _r, ...rest }: EnvironmentState) => rest;

async function get(service: string, name: string, path: string) {
  const res = await fetch((await h.rt.fleet.endpoint(service, name)) + path);
  return { status: res.status, version: res.headers.get('x-tagflow-version') };
}

async function preTrafficDecisions(service: string, version: string) {
  return (await h.rt.deps.ledger.decisions(service, version)).filter((d) => d.step === 'pre-traffic');
}

/** Whether anything still answers at a staged version's own address. */
async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(`${endpoint}/health`);
    return true;
  } catch {
    return false;
  }
}

describe('pre-traffic checks', () => {
  it('a good build passes its checks on its own server in each environment, then takes the traffic', async () => {
    const service = 'pt-good';
    // The environments' addresses exist before the release (as an environment's does before its
    // first deploy): a staged server closed later cannot hand its port to one, so the
    // addresses below differ only if the checks really went elsewhere.
    const endpoints = new Map<string, string>();
    for (const name of ['dev', 'staging', 'prod']) endpoints.set(name, await h.rt.fleet.endpoint(service, name));
    await h.publish('v1.0.0', { service });
    const s = await release(service, 'v1.0.0');

    expect([s.status, s.error, s.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    const entered = statesEntered(s.history);
    expect(entered.filter((n) => n === 'Pre-traffic checks')).toHaveLength(3);
    for (const name of ['Pre-traffic checks', 'Deploy']) expect(entered.indexOf(name)).toBeGreaterThan(entered.indexOf('Promote'));
    expect(entered.indexOf('Pre-traffic checks')).toBeLessThan(entered.indexOf('Deploy'));
    const decisions = await preTrafficDecisions(service, 'v1.0.0');
    expect(decisions.map((d) => [d.environment, d.verdict])).toEqual([['dev', 'passed'], ['staging', 'passed'], ['prod', 'passed']]);
    for (const d of decisions) {
      const { staged, checks } = d.evidence as { staged: { endpoint: string }; checks: { name: string; passed: boolean }[] };
      expect(checks).toEqual([expect.objectContaining({ name: 'health', passed: true, attempts: 1 })]);
      // The checks went to the version's own address, not the environment's, and it closed once traffic moved.
      expect(await h.rt.fleet.endpoint(service, d.environment!)).toBe(endpoints.get(d.environment!));
      expect(staged.endpoint).not.toBe(endpoints.get(d.environment!));
      expect(await answers(staged.endpoint)).toBe(false);
    }
    for (const name of ['dev', 'staging', 'prod']) {
      expect(await env(service, name)).toMatchObject({ version: 'v1.0.0', healthy: true });
      expect(await get(service, name, '/health')).toEqual({ status: 200, version: 'v1.0.0' });
    }
  });

  for (const [service, dir, reason] of [
    ['pt-crash', CRASH_DIR, /start: v2\.0\.0 did not start: DATABASE_URL is not set/],
    ['pt-unhealthy', UNHEALTHY_DIR, /health: GET http:\/\/127\.0\.0\.1:\d+\/health answered 500, expected 200 \(after 2 attempts\)/],
  ] as const) {
    it(`${service}: stops at the first environment with PreTrafficCheckFailed; the live version keeps serving, nothing is rolled back`, async () => {
      await h.publish('v1.0.0', { service });
      expect((await release(service, 'v1.0.0')).status).toBe('SUCCEEDED');
      const before = settled(await env(service, 'dev'));

      await h.publish('v2.0.0', { service, dir });
      const s = await release(service, 'v2.0.0');

      expect(s).toMatchObject({ status: 'FAILED', error: 'PreTrafficCheckFailed' });
      expect(s.cause).toMatch(reason);
      expect(environmentsEntered(s.history)).toEqual(['dev']);
      const entered = statesEntered(s.history);
      expect(entered).toContain('Release lock after failure');
      for (const never of ['Deploy', 'Start canary', 'Smoke tests', 'Roll back environment']) expect(entered, never).not.toContain(never);

      // The ledger's dev is what it was (lock given back); nothing reached staging or prod.
      const dev = await env(service, 'dev');
      expect(dev.lockHolder).toBeUndefined();
      expect(settled(dev)).toEqual(before);
      for (const name of ['staging', 'prod']) expect(await env(service, name)).toMatchObject({ version: 'v1.0.0', healthy: true });
      expect(await h.rt.deps.ledger.getOutcome(service, 'v2.0.0')).toMatchObject({ outcome: 'failed', error: 'PreTrafficCheckFailed' });

      // One decision names the failed check; the new version served no user request and is stopped.
      const [decision, ...more] = await preTrafficDecisions(service, 'v2.0.0');
      expect(more).toEqual([]);
      expect(decision).toMatchObject({ environment: 'dev', verdict: 'failed' });
      expect(decision!.summary).toMatch(reason);
      const staged = (decision!.evidence as { staged?: { endpoint: string } }).staged;
      if (staged) expect(await answers(staged.endpoint)).toBe(false);
      expect(await get(service, 'dev', '/health')).toEqual({ status: 200, version: 'v1.0.0' });
      expect(h.rt.fleet.samples(service, 'dev', 0, Number.POSITIVE_INFINITY).filter((x) => x.version === 'v2.0.0')).toEqual([]);
    });
  }

  it('runs before a canary: a version that cannot start never gets the canary\'s first step', async () => {
    const service = 'pt-canary';
    await h.publish('v1.0.0', { service });
    // First release: nothing live, so no canary; all traffic goes to the staged version.
    const first = await release(service, 'v1.0.0');
    expect([first.status, first.error, first.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(statesEntered(first.history).filter((n) => ['Pre-traffic checks', 'Start canary'].includes(n))).toEqual(['Pre-traffic checks', 'Start canary']);
    expect(await get(service, 'prod', '/health')).toEqual({ status: 200, version: 'v1.0.0' });
    const before = settled(await env(service, 'prod'));

    await h.publish('v2.0.0', { service, dir: CRASH_DIR });
    const s = await release(service, 'v2.0.0');

    expect(s).toMatchObject({ status: 'FAILED', error: 'PreTrafficCheckFailed' });
    const entered = statesEntered(s.history);
    for (const never of ['Start canary', 'Judge canary', 'Roll back environment']) expect(entered, never).not.toContain(never);
    expect(settled(await env(service, 'prod'))).toEqual(before);
    expect(h.rt.fleet.canary(service, 'prod')).toBeUndefined();
    expect(await get(service, 'prod', '/health')).toEqual({ status: 200, version: 'v1.0.0' });
  });
});
