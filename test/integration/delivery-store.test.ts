import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_KEY_PREFIX, DynamoDbDeliveryStore } from '../../lambdas/adapters/dynamodb-deliveries.js';
import { documentClient } from '../../lambdas/adapters/dynamodb-table.js';
import { startAwsServices, type LocalAwsServices } from '../../local/runtime/aws-services.js';

/** The webhook's delivery records: conditional writes against a real DynamoDB API (dynalite on loopback). */

const TABLE = 'delivery-test';
let aws: LocalAwsServices;
let store: DynamoDbDeliveryStore;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tagflow-deliveries-'));
  aws = await startAwsServices(dir, [], TABLE);
  store = new DynamoDbDeliveryStore(aws.dynamodb, TABLE);
});
afterAll(async () => {
  await aws?.close();
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.parse('2026-12-01T10:00:00Z');
const LEASE = 60_000;
const claim = (deliveryId: string, attempt: string, nowMs = T0) => store.claim({ source: 'github', deliveryId, attempt, nowMs, leaseMs: LEASE, summary: { repository: 'acme/api', service: 'api', tag: 'v1.0.0' } });

describe('DynamoDB delivery store', () => {
  it('gives a delivery to exactly one of many racing attempts; the others learn when its lease ends', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => claim('race', `a${i}`)));
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
    for (const r of results.filter((x) => !x.claimed)) expect(r).toEqual({ claimed: false, status: 'pending', leaseUntil: T0 + LEASE });
  });

  it('a completed delivery is done for good: every later claim, even long after, is a duplicate', async () => {
    expect(await claim('done', 'a1')).toEqual({ claimed: true });
    await store.complete({ source: 'github', deliveryId: 'done', attempt: 'a1', at: new Date(T0).toISOString() });
    expect(await claim('done', 'a2')).toEqual({ claimed: false, status: 'done' });
    expect(await claim('done', 'a3', T0 + 365 * 86_400_000)).toEqual({ claimed: false, status: 'done' });
    // A late release by an attempt that lost track never undoes it.
    await store.release({ source: 'github', deliveryId: 'done', attempt: 'a1' });
    expect(await claim('done', 'a4')).toEqual({ claimed: false, status: 'done' });
  });

  it('a released claim (its put failed) may be claimed again at once; only its own attempt can release it', async () => {
    expect(await claim('failed', 'a1')).toEqual({ claimed: true });
    await store.release({ source: 'github', deliveryId: 'failed', attempt: 'someone-else' });
    expect(await claim('failed', 'a2')).toMatchObject({ claimed: false, status: 'pending' });
    await store.release({ source: 'github', deliveryId: 'failed', attempt: 'a1' });
    expect(await claim('failed', 'a2')).toEqual({ claimed: true });
    expect(await claim('failed', 'a3')).toMatchObject({ claimed: false, status: 'pending' });
  });

  it('a claim whose holder died is taken over once its lease has run out, not before', async () => {
    expect(await claim('dead', 'a1')).toEqual({ claimed: true });
    expect(await claim('dead', 'a2', T0 + LEASE)).toMatchObject({ claimed: false, status: 'pending' });
    expect(await claim('dead', 'a2', T0 + LEASE + 1)).toEqual({ claimed: true });
    // The dead attempt's release, if it ever came, would not free the new holder's claim.
    await store.release({ source: 'github', deliveryId: 'dead', attempt: 'a1' });
    expect(await claim('dead', 'a3', T0 + LEASE + 2)).toMatchObject({ claimed: false, status: 'pending', leaseUntil: T0 + 2 * LEASE + 1 });
  });

  it('keeps every delivery under the DELIVERY# partition-key prefix the webhook role is limited to, with what it asked for', async () => {
    // Its own deliveries: one claimed, one done (whatever the other tests wrote, in whatever order they ran).
    await claim('kept-pending', 'a1');
    await claim('kept-done', 'a1');
    await store.complete({ source: 'github', deliveryId: 'kept-done', attempt: 'a1', at: new Date(T0).toISOString() });
    const out = await documentClient(aws.dynamodb).send(new ScanCommand({ TableName: TABLE }));
    const items = out.Items ?? [];
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) {
      expect(item.pk).toBe(`${DELIVERY_KEY_PREFIX}github#${item.deliveryId}`);
      expect(item.sk).toBe('DELIVERY');
    }
    expect(items.find((i) => i.deliveryId === 'kept-pending')).toMatchObject({ kind: 'delivery', source: 'github', status: 'pending' });
    expect(items.find((i) => i.deliveryId === 'kept-done')).toMatchObject({ kind: 'delivery', source: 'github', status: 'done', doneBy: 'a1', request: { repository: 'acme/api', service: 'api', tag: 'v1.0.0' } });
  });
});
