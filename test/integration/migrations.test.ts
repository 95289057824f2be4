import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineConfig } from '../../lambdas/lib/config.js';
import type { MigrationPayload } from '../../lambdas/lib/steps/migrate.js';
import { publishBuild, reportTests } from '../../local/runtime/ci.js';
import type { LocalFunction } from '../../local/runtime/local-functions.js';
import { LOCAL_LOCATIONS, type ApprovalRequested, type LocalRuntime } from '../../local/runtime/runtime.js';
import { statusTable } from '../../local/cli/status.js';
import { BAD_DIR, commitOf, demoConfig, GOOD_DIR, GREEN, startHarness, statesEntered, type Harness, type RawService } from '../support/harness.js';

/**
 * Migrations with a point of no return, through the real release.asl.json and rollback.asl.json:
 * dev of each service runs `{service}-expand` before its deploy and `{service}-contract` once
 * known-good. Each test releases its own service. A failure after the expand holds for a
 * person; the rollback machine refuses versions that do not declare schemaCompat.
 */

const APPROVERS = ['alice', 'bob'];
const withMigrations = (s: RawService) => {
  s.environments[0]!.migrations = [
    { type: 'invoke', function: '{service}-expand', phase: 'expand', name: 'add orders.currency' },
    { type: 'invoke', function: '{service}-contract', phase: 'contract', name: 'drop orders.legacy_total' },
  ];
  // Only dev, which here also checks the orders API (v1.1.0's fails): a release stops there.
  s.environments.splice(1);
  s.environments[0]!.smoke.push({ name: 'orders', path: '/api/orders', jsonPath: '$.status', equals: 'ok' });
};

function config(services: string[], approvalTimeoutHours = 24): PipelineConfig {
  return demoConfig({ services: Object.fromEntries(services.map((name) => [name, withMigrations])), policy: { approvers: APPROVERS, approvalTimeoutHours } });
}

/** What each migration function saw: its payload, and what dev's fleet served when it ran. */
interface Call {
  fn: string;
  payload: MigrationPayload;
  serving: string | undefined;
}

function functionsFor(services: string[], calls: Call[], rt: () => LocalRuntime, failing = new Set<string>()): Record<string, LocalFunction> {
  const out: Record<string, LocalFunction> = {};
  for (const service of services) {
    for (const fn of [`${service}-expand`, `${service}-contract`]) {
      out[fn] = (payload) => {
        calls.push({ fn, payload: payload as MigrationPayload, serving: rt().fleet.version(service, 'dev') });
        if (failing.has(fn)) throw new Error('column "currency" already exists with another type');
        return { ok: true };
      };
    }
  }
  return out;
}

async function publish(h: Harness, service: string, version: string, opts: { dir?: string; schema?: number; schemaCompat?: string[] } = {}): Promise<void> {
  const commit = commitOf(version);
  await publishBuild(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, { service, version, commit, dir: opts.dir ?? GOOD_DIR, entry: 'app.mjs', ...(opts.schema === undefined ? {} : { schema: opts.schema }), ...(opts.schemaCompat ? { schemaCompat: opts.schemaCompat } : {}) });
  await reportTests(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, service, commit, GREEN);
}

const nextRequest = (rt: LocalRuntime) =>
  new Promise<ApprovalRequested>((resolve) => {
    const off = rt.onApprovalRequested((r) => {
      off();
      resolve(r);
    });
  });

describe('migrations in a release', () => {
  const services = ['ordered', 'kept', 'reverted', 'forged', 'broken', 'refused', 'compatible'];
  const calls: Call[] = [];
  const failing = new Set(['broken-expand']);
  let h: Harness;
  const dev = (service: string) => h.rt.deps.ledger.getEnvironment(service, 'dev');
  const callsOf = (service: string) => calls.filter((c) => c.payload.service === service);

  beforeAll(async () => {
    h = await startHarness({ config: config(services), functions: functionsFor(services, calls, () => h.rt, failing) });
  });
  afterAll(async () => h?.close());

  it('runs expand under the lock before the deploy and contract once known-good, and records the point of no return', async () => {
    const service = 'ordered';
    await publish(h, service, 'v1.0.0', { schema: 1 });
    await publish(h, service, 'v1.1.0', { schema: 2 });
    expect((await h.rt.startExecution('release', { service, version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    const run = h.rt.startExecution('release', { service, version: 'v1.1.0' });
    const s = await run.done;
    expect(s.status).toBe('SUCCEEDED');

    const second = callsOf(service).filter((c) => c.payload.version === 'v1.1.0');
    // The expand ran while dev still served v1.0.0; the contract once v1.1.0 served.
    expect(second.map((c) => [c.fn, c.serving])).toEqual([
      [`${service}-expand`, 'v1.0.0'],
      [`${service}-contract`, 'v1.1.0'],
    ]);
    expect(second[0]!.payload).toMatchObject({ service, version: 'v1.1.0', environment: 'dev', phase: 'expand', migration: 'add orders.currency', schema: 2 });
    const states = statesEntered(s.history);
    expect(states.indexOf('Run expand migrations')).toBeGreaterThan(states.indexOf('Acquire environment lock'));
    expect(states.indexOf('Run expand migrations')).toBeLessThan(states.indexOf('Promote'));
    expect(states.indexOf('Run contract migrations')).toBeGreaterThan(states.indexOf('Record environment'));

    expect(await dev(service)).toMatchObject({ version: 'v1.1.0', healthy: true, irreversibleAfter: { version: 'v1.1.0', phase: 'contract', migrations: ['drop orders.legacy_total'], schema: 2 } });
    const decisions = (await h.rt.deps.ledger.decisions(service, 'v1.1.0')).filter((d) => d.step === 'migrate');
    expect(decisions.map((d) => d.verdict)).toEqual(['passed', 'passed']);
    expect(decisions[0]!.summary).toContain('expand migrations ran in dev: add orders.currency (schema 2)');
    const status = (await statusTable(h.rt.deps.ledger, h.rt.options.config, service)).join('\n');
    expect(status).toContain('past a migration: contract drop orders.legacy_total of v1.1.0');
    expect(status).toContain('schema 2');
  });

  it('holds a failure after the expand for a person, naming the migration; promote keeps what serves', async () => {
    const service = 'kept';
    await publish(h, service, 'v1.0.0', { schema: 1 });
    await publish(h, service, 'v1.1.0', { dir: BAD_DIR, schema: 2 });
    expect((await h.rt.startExecution('release', { service, version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    const requested = nextRequest(h.rt);
    const run = h.rt.startExecution('release', { service, version: 'v1.1.0' });
    const request = await requested;
    expect(request).toMatchObject({ kind: 'migration-hold', service, version: 'v1.1.0', environment: 'dev', needed: 1, approvers: APPROVERS });
    const stored = await h.rt.deps.approvals.get(request);
    expect(stored!.reason).toContain('expand migration add orders.currency ran in dev for v1.1.0 (schema 2)');
    expect(stored!.reason).toContain('SmokeTestFailed');
    // Held: the failed version still serves, nothing was rolled back.
    expect(h.rt.fleet.version(service, 'dev')).toBe('v1.1.0');

    await h.rt.approve(request, 'alice');
    const s = await run.done;
    expect(s).toMatchObject({ status: 'FAILED', error: 'HeldAfterMigration' });
    expect(s.cause).toContain('v1.1.0 failed in dev (SmokeTestFailed) after expand migration add orders.currency');
    expect(s.cause).toContain('nothing was rolled back');
    expect(h.rt.fleet.version(service, 'dev')).toBe('v1.1.0');
    const env = await dev(service);
    expect(env).toMatchObject({ version: 'v1.1.0', irreversibleAfter: { version: 'v1.1.0', phase: 'expand' } });
    expect(env!.lockHolder).toBeUndefined();
    expect(await h.rt.deps.ledger.getOutcome(service, 'v1.1.0')).toMatchObject({ outcome: 'failed', error: 'HeldAfterMigration' });
    // No contract ran: the release never became known-good.
    expect(callsOf(service).map((c) => c.fn)).toEqual([`${service}-expand`, `${service}-contract`, `${service}-expand`]);
  });

  it('rolls back past the migration only on a rollback decision the ledger verifies', async () => {
    const service = 'reverted';
    await publish(h, service, 'v1.0.0', { schema: 1 });
    await publish(h, service, 'v1.1.0', { dir: BAD_DIR, schema: 2 });
    expect((await h.rt.startExecution('release', { service, version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    const requested = nextRequest(h.rt);
    const run = h.rt.startExecution('release', { service, version: 'v1.1.0' });
    const request = await requested;
    await h.rt.reject(request, 'bob', 'the expand is additive; v1.0.0 ignores the column');
    const s = await run.done;
    expect(s.status).toBe('FAILED');
    expect(statesEntered(s.history)).toContain('Verify migration rollback');
    expect(h.rt.fleet.version(service, 'dev')).toBe('v1.0.0');
    expect(await dev(service)).toMatchObject({ version: 'v1.0.0', lastOutcome: 'rolled-back' });
    expect(await h.rt.deps.approvals.get(request)).toMatchObject({ status: 'rejected', rejectedBy: { approver: 'bob' } });
  });

  it('keeps what serves when the wait is ended by hand with the rollback error: the ledger holds no such decision', async () => {
    const service = 'forged';
    await publish(h, service, 'v1.0.0', { schema: 1 });
    await publish(h, service, 'v1.1.0', { dir: BAD_DIR, schema: 2 });
    expect((await h.rt.startExecution('release', { service, version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    const requested = nextRequest(h.rt);
    const run = h.rt.startExecution('release', { service, version: 'v1.1.0' });
    const request = await requested;
    const { taskToken } = (await h.rt.deps.approvals.get(request))!;
    // SendTaskFailure with the token from the ledger, as anyone with states:SendTaskFailure could.
    await h.rt.deps.taskTokens.fail(taskToken, 'MigrationRollbackChosen', 'roll it back');
    const s = await run.done;
    expect(s).toMatchObject({ status: 'FAILED', error: 'HeldAfterMigration' });
    expect(h.rt.fleet.version(service, 'dev')).toBe('v1.1.0');
    const refused = (await h.rt.deps.ledger.decisions(service, 'v1.1.0')).find((d) => d.step === 'approval' && d.verdict === 'failed');
    expect(refused?.summary).toContain('the request is pending, not decided rollback');
  });

  it('stops the release with nothing deployed when the expand migration fails', async () => {
    const service = 'broken';
    await publish(h, service, 'v1.0.0', { schema: 1 });
    failing.delete('broken-expand');
    expect((await h.rt.startExecution('release', { service, version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    failing.add('broken-expand');
    await publish(h, service, 'v1.1.0', { schema: 2 });
    const s = await h.rt.startExecution('release', { service, version: 'v1.1.0' }).done;
    expect(s).toMatchObject({ status: 'FAILED', error: 'MigrationFailed' });
    expect(s.cause).toContain('expand migration "add orders.currency" failed in dev');
    expect(s.cause).toContain('column "currency" already exists');
    expect(s.cause).toContain('nothing was deployed');
    expect(h.rt.fleet.version(service, 'dev')).toBe('v1.0.0');
    expect(await h.promotedAnywhere(service, 'v1.1.0')).toEqual([]);
    expect((await dev(service))!.lockHolder).toBeUndefined();
  });

  it('refuses, in the rollback machine, a version whose build does not declare schemaCompat with the schema in place', async () => {
    const service = 'refused';
    await publish(h, service, 'v1.0.0', { schema: 1 });
    await publish(h, service, 'v1.1.0', { schema: 2 });
    for (const version of ['v1.0.0', 'v1.1.0']) expect((await h.rt.startExecution('release', { service, version }).done).status).toBe('SUCCEEDED');
    const back = await h.rt.startExecution('rollback', { service, environment: 'dev', reason: 'p99 up since 14:02' }).done;
    expect(back).toMatchObject({ status: 'FAILED', error: 'RollbackRefused' });
    expect(back.cause).toContain('contract migration drop orders.legacy_total of v1.1.0 ran in dev');
    expect(back.cause).toContain('the schema is now 2, and v1.0.0 expects schema 1 and declares no schemaCompat');
    expect(back.cause).toContain('roll forward with a fix');
    expect(h.rt.fleet.version(service, 'dev')).toBe('v1.1.0');
    expect(await dev(service)).toMatchObject({ version: 'v1.1.0', healthy: true });
  });

  it('rolls back to a version whose build declares it runs against the new schema', async () => {
    const service = 'compatible';
    await publish(h, service, 'v1.0.0', { schema: 1, schemaCompat: ['2+'] });
    await publish(h, service, 'v1.1.0', { schema: 2 });
    for (const version of ['v1.0.0', 'v1.1.0']) expect((await h.rt.startExecution('release', { service, version }).done).status).toBe('SUCCEEDED');
    const back = await h.rt.startExecution('rollback', { service, environment: 'dev', reason: 'p99 up since 14:02' }).done;
    expect(back.status, back.cause).toBe('SUCCEEDED');
    expect(h.rt.fleet.version(service, 'dev')).toBe('v1.0.0');
    // The schema stays where the migration put it.
    expect(await dev(service)).toMatchObject({ version: 'v1.0.0', irreversibleAfter: { version: 'v1.1.0', schema: 2 } });
  });
});

describe('a hold after a migration that nobody decides', () => {
  const calls: Call[] = [];
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: config(['undecided'], 1 / 3600), functions: functionsFor(['undecided'], calls, () => h.rt) });
  });
  afterAll(async () => h?.close());

  it('keeps what serves instead of rolling back blindly, and says why', async () => {
    const service = 'undecided';
    await publish(h, service, 'v1.0.0', { schema: 1 });
    await publish(h, service, 'v1.1.0', { dir: BAD_DIR, schema: 2 });
    expect((await h.rt.startExecution('release', { service, version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    const s = await h.rt.startExecution('release', { service, version: 'v1.1.0' }).done;
    expect(s).toMatchObject({ status: 'FAILED', error: 'HeldAfterMigration' });
    expect(h.rt.fleet.version(service, 'dev')).toBe('v1.1.0');
    const held = (await h.rt.deps.ledger.decisions(service, 'v1.1.0')).find((d) => d.step === 'approval');
    expect(held?.summary).toContain('no decision keeps what serves');
  });
});
