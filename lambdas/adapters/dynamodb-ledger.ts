import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { LockLost } from '../lib/errors.js';
import type { ClaimResult, Ledger, LedgerFreeze, LockResult } from '../lib/ports.js';
import type { AttemptRecord, Decision, DriftMark, EnvironmentState, OutcomeRecord, ReleaseRecord } from '../lib/types.js';
import { documentClient, isConditionFailure } from './dynamodb-table.js';
import { call } from './transient.js';

/**
 * The ledger in one DynamoDB table (`pk`, `sk`):
 *   SVC#<service>  REL#<version>          release record (immutable, attribute_not_exists)
 *   SVC#<service>  REL#<version>#OUTCOME  outcome (written once)
 *   SVC#<service>  ENV#<environment>      environment state + lock (condition expressions)
 *   DEC#<service>#<version>  <at>#<n>     decisions with evidence
 *   SERVICES       <service>              index of services that ever released
 *   FREEZES        <name>                 a freeze declared with `tagflow freeze` (one item each;
 *                                         their own partition, so the policy step reads them all
 *                                         with one Query, never a Scan)
 */

const svcKey = (service: string) => `SVC#${service}`;
const relKey = (version: string) => `REL#${version}`;
const envKey = (environment: string) => `ENV#${environment}`;
const decKey = (service: string, version: string) => `DEC#${service}#${version}`;


function strip<T extends Record<string, unknown>>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, kind: _kind, ...rest } = item;
  return rest as T;
}

export class DynamoDbLedger implements Ledger {
  private readonly doc: DynamoDBDocumentClient;
  private sequence = 0;
  private readonly instance = randomUUID().slice(0, 8);

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = documentClient(client);
  }

  async claimRelease(record: ReleaseRecord): Promise<ClaimResult> {
    try {
      await call('DynamoDB PutItem (claim release)', () =>
        this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: svcKey(record.service), sk: relKey(record.version), kind: 'release', ...record }, ConditionExpression: 'attribute_not_exists(pk)' })),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const existing = await this.getRelease(record.service, record.version);
      if (!existing) throw err;
      return { claimed: false, existing };
    }
    await call('DynamoDB PutItem (service index)', () => this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: 'SERVICES', sk: record.service, kind: 'service' } })));
    return { claimed: true };
  }

  async getRelease(service: string, version: string): Promise<ReleaseRecord | undefined> {
    const res = await call('DynamoDB GetItem (release)', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: svcKey(service), sk: relKey(version) }, ConsistentRead: true })));
    return strip<ReleaseRecord & Record<string, unknown>>(res.Item);
  }

  async attachImageDigest(service: string, version: string, imageDigest: string): Promise<boolean> {
    try {
      await call('DynamoDB UpdateItem (attach image digest)', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: svcKey(service), sk: relKey(version) },
            UpdateExpression: 'SET imageDigest = :d',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(imageDigest)',
            ExpressionAttributeValues: { ':d': imageDigest },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async recordDecision(decision: Decision): Promise<void> {
    // Ordered by time, then by write order within this instance; the instance id keeps keys unique.
    const sk = `${decision.at}#${String(this.sequence++).padStart(10, '0')}#${this.instance}`;
    await call('DynamoDB PutItem (decision)', () =>
      this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: decKey(decision.service, decision.version), sk, kind: 'decision', ...decision }, ConditionExpression: 'attribute_not_exists(pk)' })),
    );
  }

  async decisions(service: string, version: string): Promise<Decision[]> {
    return this.query<Decision & Record<string, unknown>>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': decKey(service, version) } });
  }

  async recordOutcome(outcome: OutcomeRecord): Promise<boolean> {
    // Once per attempt: the release record names the current attempt's execution; a retry
    // starts only after the earlier attempt's outcome is written, so a newer attempt's outcome
    // may replace it, and a late write for a superseded attempt is ignored.
    const release = await this.getRelease(outcome.service, outcome.version);
    if (release && release.executionId !== outcome.executionId) return false;
    const attempt = release?.attempt ?? 1;
    try {
      await call('DynamoDB PutItem (outcome)', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: svcKey(outcome.service), sk: `${relKey(outcome.version)}#OUTCOME`, kind: 'outcome', ...outcome, attempt },
            ConditionExpression: attempt > 1 ? 'attribute_not_exists(pk) OR attribute_not_exists(attempt) OR attempt < :a' : 'attribute_not_exists(pk)',
            ...(attempt > 1 ? { ExpressionAttributeValues: { ':a': attempt } } : {}),
          }),
        ),
      );
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return false;
    }
  }

  async retryRelease(record: ReleaseRecord, fromExecution: string, earlier: AttemptRecord): Promise<boolean> {
    try {
      await call('DynamoDB UpdateItem (retry release)', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: svcKey(record.service), sk: relKey(record.version) },
            UpdateExpression: 'SET executionId = :e, startedAt = :s, #trigger = :t, #plan = :p, configSnapshot = :c, attempt = :n, attempts = list_append(if_not_exists(attempts, :none), :earlier)',
            ConditionExpression: 'executionId = :from',
            ExpressionAttributeNames: { '#trigger': 'trigger', '#plan': 'plan' },
            ExpressionAttributeValues: {
              ':e': record.executionId,
              ':s': record.startedAt,
              ':t': record.trigger,
              ':p': record.plan,
              ':c': record.configSnapshot,
              ':n': earlier.attempt + 1,
              ':none': [],
              ':earlier': [earlier],
              ':from': fromExecution,
            },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async getOutcome(service: string, version: string): Promise<OutcomeRecord | undefined> {
    const res = await call('DynamoDB GetItem (outcome)', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: svcKey(service), sk: `${relKey(version)}#OUTCOME` }, ConsistentRead: true })));
    return strip<OutcomeRecord & Record<string, unknown>>(res.Item);
  }

  async recordStoppedOutcome(outcome: OutcomeRecord): Promise<boolean> {
    const release = (await this.getRelease(outcome.service, outcome.version)) as (ReleaseRecord & { attempt?: unknown }) | undefined;
    if (release && release.executionId !== outcome.executionId) return false;
    // The attempt it ends, as the release record numbers it (a retried release's later attempts).
    const attempt = typeof release?.attempt === 'number' ? { attempt: release.attempt } : {};
    try {
      await call('DynamoDB PutItem (outcome of a stopped release)', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: svcKey(outcome.service), sk: `${relKey(outcome.version)}#OUTCOME`, kind: 'outcome', ...outcome, ...attempt },
            // Unless this execution already has an outcome other than the reconciler's `aborted` (an earlier attempt's is replaced).
            ConditionExpression: 'attribute_not_exists(pk) OR executionId <> :e OR #outcome = :aborted',
            ExpressionAttributeNames: { '#outcome': 'outcome' },
            ExpressionAttributeValues: { ':e': outcome.executionId, ':aborted': 'aborted' },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return false;
    }
  }

  async claimRollback(service: string, environment: string, fromVersion: string, executionId: string, nowIso: string): Promise<{ claimed: true } | { claimed: false; by: string; at: string }> {
    const Key = { pk: svcKey(service), sk: `RB#${environment}#${fromVersion}` };
    try {
      await call('DynamoDB PutItem (claim rollback)', () =>
        this.doc.send(new PutCommand({ TableName: this.table, Item: { ...Key, kind: 'rollback', service, environment, fromVersion, executionId, at: nowIso }, ConditionExpression: 'attribute_not_exists(pk)' })),
      );
      return { claimed: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const res = await call('DynamoDB GetItem (rollback claim)', () => this.doc.send(new GetCommand({ TableName: this.table, Key, ConsistentRead: true })));
      if (res.Item?.executionId === executionId) return { claimed: true };
      return { claimed: false, by: String(res.Item?.executionId ?? 'unknown'), at: String(res.Item?.at ?? '') };
    }
  }

  async acquireLock(service: string, environment: string, holder: string, nowMs: number, ttlMs: number, takeOverFrom?: string): Promise<LockResult> {
    try {
      const res = await call('DynamoDB UpdateItem (acquire lock)', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: svcKey(service), sk: envKey(environment) },
            UpdateExpression:
              'SET lockHolder = :h, lockExpiresAt = :exp, #service = :s, #environment = :e, kind = :kind, revision = if_not_exists(revision, :zero), goodVersions = if_not_exists(goodVersions, :none), #refs = if_not_exists(#refs, :noRefs), healthy = if_not_exists(healthy, :false)',
            ConditionExpression: `attribute_not_exists(lockHolder) OR lockExpiresAt < :now OR lockHolder = :h${takeOverFrom ? ' OR lockHolder = :from' : ''}`,
            ExpressionAttributeNames: { '#service': 'service', '#environment': 'environment', '#refs': 'refs' },
            ExpressionAttributeValues: { ':h': holder, ':exp': nowMs + ttlMs, ':now': nowMs, ':s': service, ':e': environment, ':kind': 'environment', ':zero': 0, ':none': [], ':noRefs': {}, ':false': false, ...(takeOverFrom ? { ':from': takeOverFrom } : {}) },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { acquired: true, state: strip<EnvironmentState & Record<string, unknown>>(res.Attributes)! };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const current = await this.getEnvironment(service, environment);
      return { acquired: false, holder: current?.lockHolder ?? 'unknown', expiresAt: current?.lockExpiresAt ?? nowMs };
    }
  }

  async releaseLock(service: string, environment: string, holder: string): Promise<void> {
    try {
      await call('DynamoDB UpdateItem (release lock)', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: svcKey(service), sk: envKey(environment) },
            UpdateExpression: 'REMOVE lockHolder, lockExpiresAt',
            ConditionExpression: 'lockHolder = :h',
            ExpressionAttributeValues: { ':h': holder },
          }),
        ),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async getEnvironment(service: string, environment: string): Promise<EnvironmentState | undefined> {
    const res = await call('DynamoDB GetItem (environment)', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: svcKey(service), sk: envKey(environment) }, ConsistentRead: true })));
    return strip<EnvironmentState & Record<string, unknown>>(res.Item);
  }

  async putEnvironment(state: EnvironmentState, holder: string): Promise<EnvironmentState> {
    const next = state.revision + 1;
    const fields: Record<string, unknown> = {
      version: state.version,
      healthy: state.healthy,
      goodVersions: state.goodVersions,
      refs: state.refs,
      lastReleaseId: state.lastReleaseId,
      lastOutcome: state.lastOutcome,
      updatedAt: state.updatedAt,
      canary: state.canary,
      // null clears a drift mark (a release or rollback restored a known state); undefined leaves it.
      drift: state.drift,
      // Once a migration ran it stays: only a later migration replaces it.
      irreversibleAfter: state.irreversibleAfter,
      revision: next,
    };
    const set = Object.entries(fields).filter(([, v]) => v !== undefined);
    try {
      const res = await call('DynamoDB UpdateItem (environment state)', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: svcKey(state.service), sk: envKey(state.environment) },
            UpdateExpression: `SET ${set.map(([k]) => `#${k} = :${k}`).join(', ')}`,
            ConditionExpression: 'lockHolder = :holder AND (revision = :rev OR attribute_not_exists(revision))',
            ExpressionAttributeNames: Object.fromEntries(set.map(([k]) => [`#${k}`, k])),
            ExpressionAttributeValues: { ...Object.fromEntries(set.map(([k, v]) => [`:${k}`, v])), ':holder': holder, ':rev': state.revision },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return strip<EnvironmentState & Record<string, unknown>>(res.Attributes)!;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const now = await this.getEnvironment(state.service, state.environment);
      throw new LockLost(
        `${state.environment} of ${state.service} changed under this execution (lock holder ${now?.lockHolder ?? 'none'}, revision ${now?.revision ?? 0}, expected holder ${holder} at revision ${state.revision}); nothing was written`,
      );
    }
  }

  async markDrift(service: string, environment: string, mark: DriftMark | null, revision: number, nowMs: number): Promise<boolean> {
    try {
      await call('DynamoDB UpdateItem (drift mark)', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: svcKey(service), sk: envKey(environment) },
            // An environment no release reached yet gets its item, shaped as acquireLock makes it.
            UpdateExpression:
              'SET #drift = :drift, revision = :next, #service = :s, #environment = :e, kind = :kind, goodVersions = if_not_exists(goodVersions, :none), #refs = if_not_exists(#refs, :noRefs), healthy = if_not_exists(healthy, :false)',
            // Only over the state the check compared, and never under a live release's lock.
            ConditionExpression: '(revision = :rev OR attribute_not_exists(revision)) AND (attribute_not_exists(lockHolder) OR lockExpiresAt < :now)',
            ExpressionAttributeNames: { '#drift': 'drift', '#service': 'service', '#environment': 'environment', '#refs': 'refs' },
            ExpressionAttributeValues: { ':drift': mark, ':next': revision + 1, ':rev': revision, ':now': nowMs, ':s': service, ':e': environment, ':kind': 'environment', ':none': [], ':noRefs': {}, ':false': false },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return false;
    }
  }

  async environments(service: string): Promise<EnvironmentState[]> {
    return this.query<EnvironmentState & Record<string, unknown>>({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :env)',
      ExpressionAttributeValues: { ':pk': svcKey(service), ':env': 'ENV#' },
    });
  }

  async releases(service: string): Promise<{ release: ReleaseRecord; outcome?: OutcomeRecord }[]> {
    const items = await this.query<Record<string, unknown>>(
      { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :rel)', ExpressionAttributeValues: { ':pk': svcKey(service), ':rel': 'REL#' } },
      true,
    );
    const outcomes = new Map<string, OutcomeRecord>();
    const releases: ReleaseRecord[] = [];
    for (const item of items) {
      if (item.kind === 'outcome') outcomes.set(item.version as string, strip<OutcomeRecord & Record<string, unknown>>(item)!);
      else if (item.kind === 'release') releases.push(strip<ReleaseRecord & Record<string, unknown>>(item)!);
    }
    releases.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    return releases.map((release) => {
      const outcome = outcomes.get(release.version);
      return outcome ? { release, outcome } : { release };
    });
  }

  async services(): Promise<string[]> {
    const items = await this.query<Record<string, unknown>>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'SERVICES' } }, true);
    return items.map((i) => i.sk as string);
  }

  async createFreeze(freeze: LedgerFreeze, nowIso: string): Promise<{ created: true } | { created: false; existing: LedgerFreeze }> {
    const Key = { pk: 'FREEZES', sk: freeze.name };
    try {
      await call('DynamoDB PutItem (freeze)', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...Key, kind: 'freeze', ...freeze },
            // A name in force is refused; an ended or expired freeze's name may be reused.
            ConditionExpression: 'attribute_not_exists(pk) OR attribute_exists(unfrozenAt) OR #until <= :now',
            ExpressionAttributeNames: { '#until': 'until' },
            ExpressionAttributeValues: { ':now': nowIso },
          }),
        ),
      );
      return { created: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const res = await call('DynamoDB GetItem (freeze)', () => this.doc.send(new GetCommand({ TableName: this.table, Key, ConsistentRead: true })));
      const existing = strip<LedgerFreeze & Record<string, unknown>>(res.Item);
      if (!existing) throw err;
      return { created: false, existing };
    }
  }

  async endFreeze(name: string, unfrozenBy: string, nowIso: string): Promise<LedgerFreeze | undefined> {
    try {
      const res = await call('DynamoDB UpdateItem (unfreeze)', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: 'FREEZES', sk: name },
            UpdateExpression: 'SET unfrozenBy = :by, unfrozenAt = :now',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(unfrozenAt) AND #until > :now',
            ExpressionAttributeNames: { '#until': 'until' },
            ExpressionAttributeValues: { ':by': unfrozenBy, ':now': nowIso },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return strip<LedgerFreeze & Record<string, unknown>>(res.Attributes);
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  async freezes(): Promise<LedgerFreeze[]> {
    return this.query<LedgerFreeze & Record<string, unknown>>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'FREEZES' } });
  }

  private async query<T>(input: Omit<QueryCommandInput, 'TableName'>, raw = false): Promise<T[]> {
    const out: T[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await call('DynamoDB Query', () => this.doc.send(new QueryCommand({ TableName: this.table, ConsistentRead: true, ...input, ...(start ? { ExclusiveStartKey: start } : {}) })));
      for (const item of res.Items ?? []) out.push((raw ? item : strip(item)) as T);
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }
}

/** The table's key schema, shared by the CDK stack and the local runtime's table creation. */
export const LEDGER_KEY_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
} as const;
