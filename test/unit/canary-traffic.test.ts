import { describe, expect, it } from 'vitest';
import { canaryTrafficPlan, parseRate } from '../../local/cli/canary-traffic.js';
import { demoConfig } from '../support/harness.js';

/** `tagflow local release --traffic`: what it tells the person, and how it compresses bake polls. */

describe('local canary traffic', () => {
  const config = demoConfig({ canary: true });

  it('says at the start what a canary with no traffic will do', () => {
    const plan = canaryTrafficPlan(config, { service: 'demo' }, { paths: ['/'] });
    expect(plan.waits).toBeUndefined();
    expect(plan.notices).toEqual([expect.stringMatching(/^prod has a canary, and nothing sends traffic to the local fleet: .* bakes 900 s in real time and is inconclusive, then it is rolled back \(onInconclusive: rollback\)\. Add --traffic 1200\/min/)]);
    expect(plan.start(async () => 'http://127.0.0.1:9')).toEqual([]);
  });

  it('with a rate: one simulated minute per second of bake, traffic to each canary environment', async () => {
    const plan = canaryTrafficPlan(config, { service: 'demo' }, { rate: 1200, paths: ['/api/orders'] });
    expect(plan.waits).toEqual({ 'Bake canary': 1000 });
    expect(plan.notices[0]).toContain('1200 requests per simulated minute to prod (/api/orders)');
    const asked: string[] = [];
    const traffic = plan.start(async (service, environment) => {
      asked.push(`${service}/${environment}`);
      return 'http://127.0.0.1:9';
    });
    expect(traffic).toHaveLength(1);
    await traffic[0]!.stop();
  });

  it('has nothing to do for a plan without canaries, and says so when asked for traffic', () => {
    expect(canaryTrafficPlan(config, { service: 'demo', environments: ['dev', 'staging'] }, { paths: ['/'] }).notices).toEqual([]);
    expect(canaryTrafficPlan(config, { service: 'demo', environments: ['dev'] }, { rate: 600, paths: ['/'] }).notices).toEqual(['--traffic: demo has no canary in dev; nothing to send traffic to']);
  });

  it('reads rates per minute only', () => {
    expect(parseRate('600/min')).toBe(600);
    expect(parseRate(' 1200 / min ')).toBe(1200);
    expect(parseRate('600')).toBeUndefined();
    expect(parseRate('10/s')).toBeUndefined();
    expect(parseRate('0/min')).toBeUndefined();
  });
});
