import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbLedger } from '../../lambdas/adapters/dynamodb-ledger.js';
import { LockLost } from '../../lambdas/lib/errors.js';
import type { ReleaseRecord } from '../../lambdas/lib/types.js';
import { ensureLedgerTable, startAwsServices, type LocalAwsServices } from '../../local/runtime/aws-services.js';

/**
 * The ledger's conditional writes, against a real DynamoDB API (dynalite on loopback). Each
 * test gets an empty ledger table of its own, so what a test reads back is what it wrote.
 */

let aws: LocalAwsServices;
let ledger: DynamoDbLedger;
let dir: string;
let tables = 0;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tagflow-ledger-'));
  aws = await startAwsServices(dir, [], 'ledger-test');
});
afterAll(async () => {
  await aws?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  // The ledger table's key schema, as the runtime and the stack create it.
  const table = `ledger-test-${++tables}`;
  await ensureLedgerTable(aws.dynamodb, table);
  while ((await aws.dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table?.TableStatus !== 'ACTIVE') await new Promise((r) => setTimeout(r, 5));
  ledger = new DynamoDbLedger(aws.dynamodb, table);
});

const record = (version: string, executionId: string): ReleaseRecord => ({
  releaseId: `api@${version}`, service: 'api', version, trigger: { kind: 'manual' }, executionId, startedAt: new Date().toISOString(), plan: ['dev'], configSnapshot: '{}',
});

describe('DynamoDB ledger', () => {
  it('claims a release once, however many claims race', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => ledger.claimRelease(record('v1.0.0', `exec-${i}`))));
    const winners = results.filter((r) => r.claimed);
    expect(winners).toHaveLength(1);
    const existing = results.find((r) => !r.claimed) as { existing: ReleaseRecord };
    expect(existing.existing.version).toBe('v1.0.0');
    expect(await ledger.services()).toEqual(['api']);
  });

  it('gives an environment lock to exactly one of many racing holders', async () => {
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.acquireLock('api', 'prod', `exec-${i}`, now, 60_000)));
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
    const loser = results.find((r) => !r.acquired) as { holder: string; expiresAt: number };
    expect(loser.expiresAt).toBe(now + 60_000);
    // Re-entrant for its holder; released only by its holder.
    const holder = (await ledger.getEnvironment('api', 'prod'))!.lockHolder!;
    expect((await ledger.acquireLock('api', 'prod', holder, now + 1, 60_000)).acquired).toBe(true);
    await ledger.releaseLock('api', 'prod', 'someone-else');
    expect((await ledger.getEnvironment('api', 'prod'))!.lockHolder).toBe(holder);
    await ledger.releaseLock('api', 'prod', holder);
    expect((await ledger.getEnvironment('api', 'prod'))!.lockHolder).toBeUndefined();
  });

  it('lets a new holder take a lock whose holder crashed and let it expire', async () => {
    const now = Date.now();
    expect((await ledger.acquireLock('api', 'staging', 'crashed', now - 120_000, 60_000)).acquired).toBe(true);
    expect((await ledger.acquireLock('api', 'staging', 'fresh', now, 60_000)).acquired).toBe(true);
    expect((await ledger.getEnvironment('api', 'staging'))!.lockHolder).toBe('fresh');
  });

  it('refuses a state write from a holder that lost the lock, or from a stale revision', async () => {
    const now = Date.now();
    const got = await ledger.acquireLock('api', 'dev', 'a', now - 120_000, 60_000);
    if (!got.acquired) throw new Error('expected the lock');
    await ledger.acquireLock('api', 'dev', 'b', now, 60_000); // a's lock expired: b takes over
    await expect(ledger.putEnvironment({ ...got.state, version: 'v9.9.9' }, 'a')).rejects.toBeInstanceOf(LockLost);

    const current = (await ledger.getEnvironment('api', 'dev'))!;
    const written = await ledger.putEnvironment({ ...current, version: 'v1.0.0', healthy: true }, 'b');
    expect(written.revision).toBe(current.revision + 1);
    await expect(ledger.putEnvironment({ ...current, version: 'v0.0.1' }, 'b')).rejects.toThrow(/changed under this execution/);
    expect((await ledger.getEnvironment('api', 'dev'))!.version).toBe('v1.0.0');
  });

  it('writes an outcome once and keeps decisions in order', async () => {
    expect((await ledger.claimRelease(record('v1.0.0', 'x'))).claimed).toBe(true);
    const base = { releaseId: 'api@v1.0.0', service: 'api', version: 'v1.0.0', environments: [], finishedAt: 'now', executionId: 'x' };
    await ledger.recordOutcome({ ...base, outcome: 'failed', reason: 'first' });
    await ledger.recordOutcome({ ...base, outcome: 'succeeded', reason: 'second' });
    expect(await ledger.getOutcome('api', 'v1.0.0')).toMatchObject({ outcome: 'failed', reason: 'first' });
    for (const step of ['claim', 'tests-gate', 'promote']) {
      await ledger.recordDecision({ releaseId: 'api@v1.0.0', service: 'api', version: 'v1.0.0', at: '2026-01-01T00:00:00.000Z', step, verdict: 'passed', summary: step });
    }
    expect((await ledger.decisions('api', 'v1.0.0')).map((d) => d.step)).toEqual(['claim', 'tests-gate', 'promote']);
    expect((await ledger.releases('api'))[0]).toMatchObject({ release: { version: 'v1.0.0' }, outcome: { outcome: 'failed' } });
  });

  it('keeps one freeze per name in its own partition: refuses a name in force, ends it once with who and when, and lets an ended name be reused', async () => {
    const freeze = { name: 'inc-1', environments: ['prod'], reason: 'payments down', from: '2026-11-30T10:00:00.000Z', until: '2026-12-02T09:00:00.000Z', frozenBy: 'alice@host', frozenAt: '2026-11-30T10:00:00.000Z' };
    expect(await ledger.createFreeze(freeze, '2026-11-30T10:00:00.000Z')).toEqual({ created: true });
    expect(await ledger.createFreeze({ ...freeze, frozenBy: 'bob@host' }, '2026-11-30T11:00:00.000Z')).toEqual({ created: false, existing: freeze });
    await ledger.createFreeze({ ...freeze, name: 'inc-2', service: 'api', environments: ['staging', 'prod'] }, '2026-11-30T10:00:00.000Z');
    expect((await ledger.freezes()).map((f) => f.name)).toEqual(['inc-1', 'inc-2']);
    // Nothing else in the table shows up as a freeze, nor a freeze as a service.
    expect(await ledger.services()).toEqual([]);

    expect(await ledger.endFreeze('inc-1', 'carol@host', '2026-11-30T12:00:00.000Z')).toEqual({ ...freeze, unfrozenBy: 'carol@host', unfrozenAt: '2026-11-30T12:00:00.000Z' });
    expect(await ledger.endFreeze('inc-1', 'dave@host', '2026-11-30T13:00:00.000Z')).toBeUndefined();
    expect(await ledger.endFreeze('no-such', 'dave@host', '2026-11-30T13:00:00.000Z')).toBeUndefined();
    // Past its until, a freeze cannot be ended (it has ended), and its name is free again.
    expect(await ledger.endFreeze('inc-2', 'dave@host', '2026-12-03T00:00:00.000Z')).toBeUndefined();
    expect(await ledger.createFreeze({ ...freeze, name: 'inc-2', frozenBy: 'erin@host' }, '2026-12-03T00:00:00.000Z')).toEqual({ created: true });
    expect(await ledger.createFreeze({ ...freeze, frozenBy: 'erin@host' }, '2026-11-30T13:00:00.000Z')).toEqual({ created: true });
    expect((await ledger.freezes()).map((f) => [f.name, f.frozenBy, f.unfrozenBy])).toEqual([['inc-1', 'erin@host', undefined], ['inc-2', 'erin@host', undefined]]);
  });
});
