import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/lib/config.js';
import { evaluatePath } from '../../lambdas/lib/json-path.js';
import type { HttpProbe } from '../../lambdas/lib/ports.js';
import { runSmokeChecks } from '../../lambdas/lib/smoke.js';

const checksOf = (smoke: unknown[]) =>
  parseConfig({ services: { api: { environments: [{ name: 'dev', smoke }] } } }).services.api!.environments[0]!.smoke;

const noSleep = { now: () => new Date(), sleep: async () => undefined };

function probe(responses: { status: number; body: string; latencyMs?: number }[]): HttpProbe & { urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    async request({ url }) {
      urls.push(url);
      const r = responses[Math.min(urls.length - 1, responses.length - 1)]!;
      return { status: r.status, body: r.body, latencyMs: r.latencyMs ?? 5 };
    },
  };
}

const ctx = (http: HttpProbe) => ({ service: 'api', environment: 'dev', version: 'v1.0.0', endpoint: 'http://127.0.0.1:9/', target: { type: 'local' as const }, http, clock: noSleep });

describe('smoke checks', () => {
  it('passes on the expected status and JSON value, joining path to the endpoint', async () => {
    const http = probe([{ status: 200, body: '{"status":"ok","items":[{"id":7}]}' }]);
    const [r] = await runSmokeChecks(checksOf([{ name: 'orders', path: '/api/orders', jsonPath: '$.items[0].id', equals: 7 }]), ctx(http));
    expect(r).toMatchObject({ name: 'orders', passed: true, attempts: 1 });
    expect(http.urls).toEqual(['http://127.0.0.1:9/api/orders']);
  });

  it('retries, then fails with the reason of the last attempt', async () => {
    const http = probe([{ status: 503, body: '' }]);
    const [r] = await runSmokeChecks(checksOf([{ name: 'health', path: '/health', retries: 2 }]), ctx(http));
    expect(r).toMatchObject({ passed: false, attempts: 3, status: 503 });
    expect(r!.reason).toContain('answered 503, expected 200');
  });

  it('passes once a flaky endpoint recovers within its retries', async () => {
    const http = probe([{ status: 502, body: '' }, { status: 200, body: 'ok' }]);
    const [r] = await runSmokeChecks(checksOf([{ name: 'health', path: '/health', retries: 1, bodyContains: 'ok' }]), ctx(http));
    expect(r).toMatchObject({ passed: true, attempts: 2 });
  });

  it('fails on latency over budget, a missing body text, or a wrong JSON value', async () => {
    const slow = await runSmokeChecks(checksOf([{ name: 's', path: '/', maxLatencyMs: 100, retries: 0 }]), ctx(probe([{ status: 200, body: '', latencyMs: 250 }])));
    expect(slow[0]!.reason).toContain('took 250 ms, budget 100 ms');
    const text = await runSmokeChecks(checksOf([{ name: 't', path: '/', bodyContains: 'hello', retries: 0 }]), ctx(probe([{ status: 200, body: 'bye' }])));
    expect(text[0]!.reason).toContain('does not contain "hello"');
    const json = await runSmokeChecks(checksOf([{ name: 'j', path: '/', jsonPath: '$.status', equals: 'ok', retries: 0 }]), ctx(probe([{ status: 200, body: '{"status":"degraded"}' }])));
    expect(json[0]!.reason).toBe('$.status is "degraded", expected "ok"');
  });

  it('turns a connection error into a failed check, not a crash', async () => {
    const http: HttpProbe = { request: async () => { throw new Error('connect ECONNREFUSED'); } };
    const [r] = await runSmokeChecks(checksOf([{ name: 'h', path: '/', retries: 0 }]), ctx(http));
    expect(r).toMatchObject({ passed: false, reason: 'connect ECONNREFUSED' });
  });
});

describe('JSONPath subset', () => {
  it('resolves dotted, indexed and quoted paths', () => {
    const doc = { a: { 'b c': [1, { d: true }] } };
    expect(evaluatePath('$', doc)).toBe(doc);
    expect(evaluatePath("$.a['b c'][1].d", doc)).toBe(true);
    expect(evaluatePath('$.a.x.y', doc)).toBeUndefined();
    expect(() => evaluatePath('$..a', doc)).toThrow(/unsupported JSONPath/);
  });
});

describe('smoke checks and our own dependencies', () => {
  it('rethrows DependencyUnavailable so the step is retried, not failed', async () => {
    const { DependencyUnavailable } = await import('../../lambdas/lib/errors.js');
    const invoker = { invoke: async () => { throw new DependencyUnavailable('Lambda Invoke failed after retries: TooManyRequestsException'); } };
    const checks = parseConfig({ services: { api: { target: { type: 'lambda-alias', functionName: 'api-{environment}' }, environments: [{ name: 'dev', smoke: [{ name: 'i', type: 'invoke', retries: 1 }] }] } } }).services.api!.environments[0]!.smoke;
    await expect(runSmokeChecks(checks, { ...ctx(probe([])), target: { type: 'lambda-alias', functionName: 'api-{environment}', alias: 'live', artifact: 'function.zip' }, invoker })).rejects.toBeInstanceOf(DependencyUnavailable);
  });
});
