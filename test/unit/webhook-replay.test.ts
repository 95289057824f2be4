import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeHandler, type WebhookDeps } from '../../lambdas/github-webhook/handler.js';
import { parseConfig } from '../../lambdas/lib/config.js';
import { DELIVERY_LEASE_MS, sign, type TagPushedEvent } from '../../lambdas/lib/github-webhook.js';
import type { DeliveryStore } from '../../lambdas/lib/ports.js';
import { memoryDeliveries } from '../support/deliveries.js';

/**
 * Replay protection at the function URL: one `Tag Pushed` event per `X-GitHub-Delivery`,
 * nothing written for a request whose signature fails, and a delivery whose put failed is
 * not lost (GitHub's redelivery carries the same GUID).
 */

const config = parseConfig({ services: { demo: { triggers: { github: 'acme/demo' }, environments: [{ name: 'dev' }] } } });
const SECRET = 'webhook-secret-for-tests';
const body = readFileSync('examples/webhooks/github-push-tag.json', 'utf8');
const GUID = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

const request = (opts: { delivery?: string; signature?: string; event?: string; body?: string } = {}) =>
  ({
    headers: {
      'x-hub-signature-256': opts.signature ?? sign(opts.body ?? body, SECRET),
      'x-github-event': opts.event ?? 'push',
      ...(opts.delivery === undefined ? {} : { 'x-github-delivery': opts.delivery }),
    },
    body: opts.body ?? body,
    isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEventV2;

interface Rig {
  call: (req: APIGatewayProxyEventV2) => Promise<{ status: number; message: string }>;
  published: TagPushedEvent[];
  store: ReturnType<typeof memoryDeliveries>;
  writes: string[];
  warnings: string[];
  clock: { now: number };
  bus: { fail: number };
}

/** The real handler with an in-memory bus (which can fail its next N puts) and delivery store that counts its calls. */
function rig(over: Partial<WebhookDeps> = {}): Rig {
  const store = memoryDeliveries();
  const writes: string[] = [];
  const counted: DeliveryStore = {
    claim: (d) => (writes.push(`claim ${d.deliveryId}`), store.claim(d)),
    complete: (d) => (writes.push(`complete ${d.deliveryId}`), store.complete(d)),
    release: (d) => (writes.push(`release ${d.deliveryId}`), store.release(d)),
  };
  const published: TagPushedEvent[] = [];
  const warnings: string[] = [];
  const clock = { now: Date.parse('2026-12-01T10:00:00Z') };
  const bus = { fail: 0 };
  let attempts = 0;
  const handler = makeHandler(() => ({
    secret: async () => SECRET,
    config: async () => config,
    publish: async (e) => {
      if (bus.fail > 0) {
        bus.fail--;
        throw Object.assign(new Error('EventBridge PutEvents: ServiceUnavailable'), { name: 'DependencyUnavailable' });
      }
      published.push(e);
    },
    deliveries: counted,
    log: { info: () => {}, warn: (m) => void warnings.push(m), error: () => {} },
    nowMs: () => clock.now,
    attemptId: () => `attempt-${++attempts}`,
    ...over,
  }));
  return {
    call: async (req) => {
      const res = (await handler(req, {} as Context)) as { statusCode: number; body: string };
      return { status: res.statusCode, message: (JSON.parse(res.body) as { message: string }).message };
    },
    published,
    store,
    writes,
    warnings,
    clock,
    bus,
  };
}

describe('GitHub webhook replay protection', () => {
  it('puts one event for a delivery; the same delivery again answers 202 duplicate and puts nothing', async () => {
    const r = rig();
    expect(await r.call(request({ delivery: GUID }))).toEqual({ status: 202, message: 'release of demo v1.0.0 requested' });
    expect(r.published).toHaveLength(1);
    expect(r.published[0]!.Detail.deliveryId).toBe(GUID);

    for (let i = 0; i < 3; i++) {
      expect(await r.call(request({ delivery: GUID }))).toEqual({ status: 202, message: `duplicate: delivery ${GUID} was accepted before; nothing put` });
    }
    expect(r.published).toHaveLength(1);
    // A different delivery of the same push (GitHub sends a new GUID for a new push) goes through;
    // the release claim downstream keeps it to one release.
    expect((await r.call(request({ delivery: 'b1e2c3d4-0000-11e3-81ab-4c9367dc0958' }))).status).toBe(202);
    expect(r.published).toHaveLength(2);
  });

  it('writes nothing for a flood of unsigned or forged requests, whatever delivery ids they carry', async () => {
    const r = rig();
    for (let i = 0; i < 200; i++) {
      const signature = i % 2 ? sign(body, 'forged') : '';
      expect((await r.call(request({ delivery: `${GUID.slice(0, -4)}${String(i).padStart(4, '0')}`, signature }))).status).toBe(401);
    }
    expect(r.writes).toEqual([]);
    expect(r.published).toEqual([]);
    // A forged replay of a real delivery id cannot mark it either: the real one still goes through.
    expect((await r.call(request({ delivery: GUID }))).status).toBe(202);
    expect(r.published).toHaveLength(1);
  });

  it('records only deliveries that ask for a release: pings, branch pushes and other events write nothing', async () => {
    const r = rig();
    expect((await r.call(request({ delivery: GUID, event: 'ping', body: '{}' }))).status).toBe(200);
    const branch = readFileSync('examples/webhooks/github-push-branch.json', 'utf8');
    expect((await r.call(request({ delivery: GUID, body: branch }))).message).toBe('ignored: a branch push');
    expect((await r.call(request({ delivery: GUID, event: 'issues' }))).status).toBe(202);
    expect(r.writes).toEqual([]);
  });

  it('refuses a signed release request without a usable X-GitHub-Delivery (400), writing and putting nothing', async () => {
    const r = rig();
    expect(await r.call(request())).toEqual({ status: 400, message: 'missing or malformed X-GitHub-Delivery (every GitHub delivery carries a GUID)' });
    expect((await r.call(request({ delivery: 'DELIVERY#x' }))).status).toBe(400);
    expect((await r.call(request({ delivery: 'a'.repeat(65) }))).status).toBe(400);
    expect(r.writes).toEqual([]);
    expect(r.published).toEqual([]);
  });

  it('does not lose a delivery whose put failed: the request fails (502), and GitHub\'s redelivery with the same GUID goes through once', async () => {
    const r = rig();
    r.bus.fail = 1;
    await expect(r.call(request({ delivery: GUID }))).rejects.toThrow(/PutEvents/);
    expect(r.published).toEqual([]);
    expect(r.store.items.get(`github#${GUID}`)?.status).toBe('failed');
    expect(r.writes).toEqual([`claim ${GUID}`, `release ${GUID}`]);

    // Redelivered from GitHub's "Recent Deliveries" a minute later (or at once: a released claim has no lease).
    expect(await r.call(request({ delivery: GUID }))).toEqual({ status: 202, message: 'release of demo v1.0.0 requested' });
    expect(r.published).toHaveLength(1);
    expect((await r.call(request({ delivery: GUID }))).message).toMatch(/^duplicate/);
    expect(r.published).toHaveLength(1);
  });

  it('puts once when the same delivery arrives twice at the same moment; the loser answers 409 and says when to redeliver', async () => {
    const r = rig();
    const [a, b] = await Promise.all([r.call(request({ delivery: GUID })), r.call(request({ delivery: GUID }))]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const lost = a.status === 409 ? a : b;
    expect(lost.message).toBe(`delivery ${GUID} is being handled by another request; if no release starts, redeliver it after ${new Date(r.clock.now + DELIVERY_LEASE_MS).toISOString()}`);
    expect(r.published).toHaveLength(1);
  });

  it('lets a redelivery take over the claim of an attempt that died mid-put, once its lease has run out', async () => {
    const r = rig();
    // An attempt claimed the delivery and was killed (timeout) before putting or releasing.
    await r.store.claim({ source: 'github', deliveryId: GUID, attempt: 'dead', nowMs: r.clock.now, leaseMs: DELIVERY_LEASE_MS, summary: {} });
    r.clock.now += DELIVERY_LEASE_MS - 1_000;
    expect((await r.call(request({ delivery: GUID }))).status).toBe(409);
    expect(r.published).toEqual([]);
    r.clock.now += 2_000;
    expect((await r.call(request({ delivery: GUID }))).status).toBe(202);
    expect(r.published).toHaveLength(1);
  });

  it('answers 202 once the event is on the bus even if marking the delivery done fails', async () => {
    const store = memoryDeliveries();
    const r = rig({ deliveries: { ...store, claim: store.claim, release: store.release, complete: async () => Promise.reject(new Error('throttled')) } });
    expect((await r.call(request({ delivery: GUID }))).status).toBe(202);
    expect(r.published).toHaveLength(1);
    expect(r.warnings).toEqual(['event put, but the delivery could not be marked done']);
  });
});
