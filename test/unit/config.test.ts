import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig, parseConfigText } from '../../lambdas/lib/config.js';
import { ConfigError } from '../../lambdas/lib/errors.js';

const example = () => JSON.parse(readFileSync('examples/tagflow.config.json', 'utf8'));
const problems = (raw: unknown) => {
  try {
    parseConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected ConfigError');
};

describe('pipeline config', () => {
  it('parses the example config with defaults filled in', () => {
    const config = parseConfig(example());
    const staging = config.services.demo!.environments[1]!;
    expect(staging.name).toBe('staging');
    expect(staging.smoke[1]).toMatchObject({ type: 'http', method: 'GET', path: '/api/orders', expectStatus: 200 });
  });

  it('fills the canary judge defaults, with a bake that follows the traffic unless maxBakeSeconds is given', () => {
    const raw = example();
    raw.services.demo.environments[2].canary = { steps: [10, 50, 100] };
    expect(parseConfig(raw).services.demo!.environments[2]!.canary).toMatchObject({ passRatio: 2, maxErrorRateIncrease: 0.0025, maxSlowShareIncrease: 0.005, beta: 0.003, bakeCapSeconds: 14_400, pollSeconds: 60 });
    expect(parseConfig(raw).services.demo!.environments[2]!.canary!.maxBakeSeconds).toBeUndefined();
  });

  it('refuses a step whose looks could outgrow the execution state', () => {
    const raw = example();
    raw.services.demo.environments[2].canary = { steps: [10, 100], pollSeconds: 5, bakeCapSeconds: 86_400 };
    expect(problems(raw)).toEqual([{ field: 'services.demo.environments[2].canary.pollSeconds', problem: expect.stringContaining('a step may take at most 1440 looks') }]);
    raw.services.demo.environments[2].canary = { steps: [10, 100], pollSeconds: 5, maxBakeSeconds: 7_200 };
    expect(() => parseConfig(raw)).not.toThrow();
  });

  it('names the field of a typo deep inside a service', () => {
    const raw = example();
    raw.services.demo.environments[2].smoke[0].expectStatuss = 200;
    expect(problems(raw)).toEqual([{ field: 'services.demo.environments[2].smoke[0].expectStatuss', problem: 'unknown field; did you mean "expectStatus"?' }]);
  });

  it('refuses duplicate environments and a pre-release stop that does not exist', () => {
    const raw = example();
    raw.services.demo.environments[1].name = 'dev';
    raw.services.demo.prereleaseStopsAfter = 'qa';
    const found = problems(raw);
    expect(found.map((p) => p.field)).toContain('services.demo.environments[1].name');
    expect(found.map((p) => p.field)).toContain('services.demo.prereleaseStopsAfter');
  });

  it('requires exactly one of url or path in an HTTP check', () => {
    const raw = example();
    raw.services.demo.environments[0].smoke[0] = { name: 'x' };
    expect(problems(raw)[0]!.field).toBe('services.demo.environments[0].smoke[0]');
  });

  it('accepts onInconclusive "hold" only with someone in policy.approvers to decide', () => {
    const raw = example();
    raw.services.demo.environments[2].canary.onInconclusive = 'hold';
    expect(problems(raw)).toEqual([{ field: 'services.demo.environments[2].canary.onInconclusive', problem: expect.stringContaining('policy.approvers lists nobody; add approvers to policy.approvers, or use "rollback"') }]);
    expect(problems({ ...raw, policy: { approvers: [] } }).map((p) => p.field)).toEqual(['services.demo.environments[2].canary.onInconclusive']);
    const held = parseConfig({ ...raw, policy: { approvers: ['alice', 'bob'] } });
    expect(held.services.demo!.environments[2]!.canary!.onInconclusive).toBe('hold');
  });

  it('counts a hold at each canary step below 100% against the release machine\'s time budget', () => {
    const raw = example();
    raw.services.demo.environments[2].canary = { steps: [10, 25, 50, 100], onInconclusive: 'hold' };
    // Three holds of 110 h: 330 h, beyond 336 h less 24 h for the release itself.
    expect(problems({ ...raw, policy: { approvers: ['alice', 'bob'], approvalTimeoutHours: 110 } })).toEqual([
      { field: 'policy.approvalTimeoutHours', problem: expect.stringContaining('could wait 110 h at each of 3 canary steps that hold, 330 h in all, beyond the release machine\'s 336 h limit less 24 h for the release itself; lower it to at most 104') },
    ]);
    expect(() => parseConfig({ ...raw, policy: { approvers: ['alice', 'bob'], approvalTimeoutHours: 110 }, services: { demo: { ...raw.services.demo, environments: raw.services.demo.environments.map((e: { canary?: object }) => (e.canary ? { ...e, canary: { ...e.canary, onInconclusive: 'rollback' } } : e)) } } })).not.toThrow();
  });

  it('takes custom metrics with defaults, and names what is wrong with one', () => {
    const raw = example();
    raw.services.demo.environments[2].canary.customMetrics = [{ name: 'checkout-failures', namespace: 'Shop', metricName: 'CheckoutFailed', dimensions: { Service: '{service}' } }];
    expect(parseConfig(raw).services.demo!.environments[2]!.canary!.customMetrics).toEqual([
      { name: 'checkout-failures', namespace: 'Shop', metricName: 'CheckoutFailed', dimensions: { Service: '{service}' }, versionDimension: 'ExecutedVersion' },
    ]);

    raw.services.demo.environments[2].canary.customMetrics = [
      { name: 'checkout-failures', namespace: 'Shop', metricName: 'CheckoutFailed' },
      { name: 'checkout-failures', namespace: 'Shop', metricName: 'PaymentRejected', dimension: 'x' },
      { name: 'errors', namespace: 'Shop', metricName: 'Errors' },
      { name: 'Refunds', namespace: 'Shop', metricName: 'Refunds' },
    ];
    const at = 'services.demo.environments[2].canary.customMetrics';
    expect(problems(raw)).toEqual(
      expect.arrayContaining([
        { field: `${at}[1].dimension`, problem: 'unknown field; did you mean "dimensions"?' },
        { field: `${at}[2].name`, problem: expect.stringContaining("errors, latency, latency-shift are the judge's own metrics") },
        { field: `${at}[3].name`, problem: expect.stringContaining('lower-case letters, digits and dashes') },
      ]),
    );
    raw.services.demo.environments[2].canary.customMetrics = raw.services.demo.environments[2].canary.customMetrics.slice(0, 2).map((m: object) => ({ ...m, dimension: undefined }));
    expect(problems(JSON.parse(JSON.stringify(raw)))).toEqual([{ field: `${at}[1].name`, problem: '"checkout-failures" appears twice; each custom metric needs its own name' }]);
  });

  it('takes an image repository for a function packaged as an image, and names a malformed one', () => {
    const raw = example();
    raw.services.demo.environments[2].target = { type: 'lambda-alias', functionName: 'demo-prod', imageRepository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/{service}' };
    expect(parseConfig(raw).services.demo!.environments[2]!.target).toMatchObject({ imageRepository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/{service}' });
    raw.services.demo.environments[2].target.imageRepository = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/demo:latest';
    expect(problems(raw)).toEqual([{ field: 'services.demo.environments[2].target.imageRepository', problem: expect.stringContaining('an ECR repository URI such as') }]);
  });

  it('reports invalid JSON with the file name', () => {
    expect(() => parseConfigText('{ nope', 'my.json')).toThrow(/my\.json is invalid: \(file\): not valid JSON/);
  });
});
