import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { canaryTrafficPlan, parseRate } from '../../local/cli/canary-traffic.js';
import { demoConfig } from '../support/harness.js';

/** `tagflow local release --traffic`: what it tells the person, and how it compresses bake polls. */

describe('local canary traffic', () => {
  const config = demoConfig({ canary: true });

  it('sends the default rate unless told otherwise', () => {
    const plan = canaryTrafficPlan(config, { service: 'demo' }, { paths: ['/'] });
    expect(plan.waits).toEqual({ 'Bake canary': 1000 });
    expect(plan.notices[0]).toContain('1200 requests per simulated minute to prod');
  });

  it('with --traffic off, says at the start what a canary with no traffic will do', async () => {
    expect(parseRate('off')).toBe(0);
    const plan = canaryTrafficPlan(config, { service: 'demo' }, { rate: 0, paths: ['/'] });
    expect(plan.waits).toBeUndefined();
    expect(plan.notices).toEqual([expect.stringMatching(/^prod has a canary, and --traffic off sends no traffic to the local fleet: .* bakes \d+ s in real time and is inconclusive, then it is rolled back \(onInconclusive: rollback\)\. Leave --traffic out \(1200\/min\)/)]);
    const follower = plan.attach(async () => 'http://127.0.0.1:9');
    follower.onEvent({ type: 'StateEntered', state: { name: 'Start canary' } });
    expect(await follower.stop()).toEqual([]);
  });

  it('with a rate: one simulated minute per second of bake, and traffic only while the canary runs', async () => {
    const plan = canaryTrafficPlan(config, { service: 'demo' }, { rate: 1200, paths: ['/api/orders'] });
    expect(plan.waits).toEqual({ 'Bake canary': 1000 });
    expect(plan.notices[0]).toContain('1200 requests per simulated minute to prod (/api/orders)');
    let served = 0;
    let firstRequest!: () => void;
    const first = new Promise<void>((r) => (firstRequest = r));
    const server = createServer((req, res) => {
      served++;
      firstRequest();
      res.end(req.url);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const asked: string[] = [];
    const follower = plan.attach(async (service, environment) => (asked.push(`${service}/${environment}`), url));
    const enter = (name: string) => follower.onEvent({ type: 'StateEntered', state: { name } });
    const environment = (name: string) => follower.onEvent({ type: 'StateExited', state: { name: 'Enter environment', output: { stage: { environment: { name } } } } });
    try {
      // staging has no canary: nothing is sent there.
      environment('staging');
      enter('Deploy');
      environment('prod');
      enter('Promote');
      expect(served).toBe(0);
      enter('Start canary');
      await first;
      enter('Bake canary');
      enter('Judge canary');
      // The canary's loop ends (here in a rollback, whose smoke checks must not compete with it): the traffic stops.
      enter('Roll back environment');
      const [sent] = await follower.stop();
      expect(sent).toMatchObject({ environment: 'prod', failures: 0 });
      expect(sent!.requests).toBe(served);
      expect(new Set(asked)).toEqual(new Set(['demo/prod']));
    } finally {
      server.close();
    }
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
