import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeHandler } from '../../lambdas/github-webhook/handler.js';
import { parseConfig } from '../../lambdas/lib/config.js';
import { receiveWebhook, sign } from '../../lambdas/lib/github-webhook.js';
import { refreshingValue } from '../../lambdas/lib/refreshing-value.js';
import { memoryDeliveries } from '../support/deliveries.js';

const config = parseConfig({ services: { demo: { triggers: { github: 'acme/demo' }, environments: [{ name: 'dev' }] } } });
const SECRET = 'webhook-secret-for-tests';
const payload = (name: string) => readFileSync(`examples/webhooks/${name}.json`, 'utf8');
const deliver = (body: string, event: string, signature = sign(body, SECRET)) =>
  receiveWebhook({ headers: { 'X-Hub-Signature-256': signature, 'X-GitHub-Event': event, 'X-GitHub-Delivery': 'd-1' }, body }, SECRET, config);

describe('GitHub webhook receiver', () => {
  it('turns a signed tag push into one Tag Pushed event', () => {
    const r = deliver(payload('github-push-tag'), 'push');
    expect(r.status).toBe(202);
    expect(r.event).toEqual({
      Source: 'tagflow',
      DetailType: 'Tag Pushed',
      Detail: { repository: 'acme/demo', service: 'demo', tag: 'v1.0.0', commit: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d', sender: 'dev', deliveryId: 'd-1' },
    });
  });

  it('accepts a base64-encoded body as function URLs deliver it', () => {
    const body = payload('github-push-tag');
    const r = receiveWebhook({ headers: { 'x-hub-signature-256': sign(body, SECRET), 'x-github-event': 'push' }, body: Buffer.from(body).toString('base64'), isBase64Encoded: true }, SECRET, config);
    expect(r.event?.Detail.tag).toBe('v1.0.0');
  });

  it('answers 401 and puts nothing for a forged, missing or malformed signature', () => {
    const body = payload('github-push-tag');
    for (const signature of [sign(body, 'wrong-secret'), '', 'sha256=zz', sign(body + ' ', SECRET), sign(body, SECRET).toUpperCase()]) {
      const r = deliver(body, 'push', signature);
      expect(r).toEqual({ status: 401, message: 'invalid or missing X-Hub-Signature-256' });
    }
  });

  it('ignores branch pushes, tag deletions, non-version tags and unknown repositories, saying why', () => {
    expect(deliver(payload('github-push-branch'), 'push')).toMatchObject({ status: 202, message: 'ignored: a branch push' });
    expect(deliver(payload('github-push-tag-deleted'), 'push')).toMatchObject({ status: 202, message: 'ignored: a tag deletion' });
    expect(deliver(payload('github-push-tag').replace('refs/tags/v1.0.0', 'refs/tags/nightly'), 'push').message).toContain('not a version tag');
    expect(deliver(payload('github-push-tag').replaceAll('acme/demo', 'acme/other'), 'push').message).toContain('no service in the pipeline config is fed by acme/other');
    for (const r of [deliver(payload('github-push-branch'), 'push'), deliver(payload('github-push-tag-deleted'), 'push')]) expect(r.event).toBeUndefined();
  });

  it('handles create events for tags, ping, and other event types', () => {
    expect(deliver(payload('github-create-tag'), 'create').event?.Detail).toMatchObject({ service: 'demo', tag: 'v1.0.0' });
    expect(deliver('{}', 'ping')).toMatchObject({ status: 200, message: 'pong' });
    expect(deliver(payload('github-push-tag'), 'issues')).toMatchObject({ status: 202 });
  });

  it('rejects a signed body that is not JSON', () => {
    expect(deliver('{not json', 'push')).toMatchObject({ status: 400, message: 'payload is not valid JSON' });
  });

  it('never crashes and never emits an event for 1,000 hostile payloads', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((v) => JSON.stringify({ ref: v, repository: { full_name: v }, deleted: v }))), fc.constantFrom('push', 'create', 'ping', 'x'), fc.boolean(), (body, event, signed) => {
        const r = deliver(body, event, signed ? sign(body, SECRET) : sign(body, 'forged'));
        expect([200, 202, 400, 401, 413]).toContain(r.status);
        if (!signed) expect(r.status).toBe(401);
        // Hostile bodies never name a configured repository with a version tag, so nothing is put.
        expect(r.event).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });
});

describe('GitHub webhook function', () => {
  const silent = { info: () => {}, warn: () => {}, error: () => {} };
  const body = payload('github-push-tag');
  let deliveries = 0;
  // Each call is a new delivery (a replay of one is test/unit/webhook-replay.test.ts).
  const delivery = (signature: string) =>
    ({ headers: { 'x-hub-signature-256': signature, 'x-github-event': 'push', 'x-github-delivery': `d-${++deliveries}` }, body, isBase64Encoded: false }) as unknown as APIGatewayProxyEventV2;

  it('verifies against a secret changed since it was read, reading it again at most once a minute', async () => {
    let stored = 'old-secret';
    let fetches = 0;
    let now = 0;
    const secret = refreshingValue(async () => (fetches++, stored), 60_000, () => now);
    const published: unknown[] = [];
    const handler = makeHandler(() => ({ secret: secret.get, refreshSecret: secret.refresh, config: async () => config, publish: async (e) => void published.push(e), deliveries: memoryDeliveries(), log: silent }));
    const status = async (signature: string) => ((await handler(delivery(signature), {} as Context)) as { statusCode: number }).statusCode;

    expect(await status(sign(body, 'old-secret'))).toBe(202);
    expect(fetches).toBe(1);

    // The secret is changed by hand in Secrets Manager and in GitHub.
    stored = 'new-secret';
    now = 61_000;
    expect(await status(sign(body, 'new-secret'))).toBe(202);
    expect(fetches).toBe(2);
    expect(await status(sign(body, 'new-secret'))).toBe(202);
    expect(fetches).toBe(2);

    // Forged deliveries get 401 and cost at most one read a minute.
    expect(await status(sign(body, 'forged'))).toBe(401);
    expect(await status(sign(body, 'forged'))).toBe(401);
    expect(fetches).toBe(2);
    now = 122_000;
    expect(await status(sign(body, 'forged'))).toBe(401);
    expect(fetches).toBe(3);
    expect(published).toHaveLength(3);
  });

  it('keeps no failed read of the secret: the next request tries again', async () => {
    let fail = true;
    const secret = refreshingValue(async () => {
      if (fail) throw new Error('throttled');
      return SECRET;
    }, 60_000);
    await expect(secret.get()).rejects.toThrow('throttled');
    fail = false;
    await expect(secret.get()).resolves.toBe(SECRET);
  });
});

