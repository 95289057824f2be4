import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../lambdas/lib/types.js';
import { publishBuild, reportTests } from '../../local/runtime/ci.js';
import { LOCAL_LOCATIONS, type ApprovalRequested, type LocalRuntime } from '../../local/runtime/runtime.js';
import { demoConfig, GOOD_DIR, GREEN, prodOf, startHarness, statesEntered, type Harness, type RawService } from '../support/harness.js';

/**
 * Issue 15, dot releases and hotfixes, through the real release.asl.json: a release older than
 * what an environment runs is refused (VersionRegression) unless an emergency's two approvers
 * force it; a dot release of an older line passes environments on a newer line by and, where a
 * newer line's build does not list its fix, waits in prod for one acknowledgement (approval
 * kind hotfix-order, the same Request approval / Verify approval states as every approval).
 */

/** Distinct commits, one per name, so each build and fix in a test has its own. */
const sha = (name: string) => Buffer.from(name).toString('hex').padEnd(40, 'e').slice(0, 40);
const FIX = sha('fix-payments');

/** CI for one version: its build (with the commits it contains, if given) and green tests (with the fixes, if given). */
async function ci(h: Harness, service: string, version: string, opts: { commits?: string[]; fixes?: string[] } = {}): Promise<string> {
  const commit = sha(`${service}-${version}`);
  await publishBuild(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, { service, version, commit, dir: GOOD_DIR, entry: 'app.mjs', ...(opts.commits ? { commits: [commit, ...opts.commits] } : {}) });
  await reportTests(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, service, commit, GREEN, new Date(), opts.fixes);
  return commit;
}

async function release(h: Harness, input: Record<string, unknown>) {
  const s = await h.rt.startExecution('release', input).done;
  return s;
}

const running = async (h: Harness, service: string) =>
  Object.fromEntries((await h.rt.deps.ledger.environments(service)).map((e) => [e.environment, e.version]));

const hotfixDecisions = async (h: Harness, service: string, version: string): Promise<Decision[]> =>
  (await h.rt.deps.ledger.decisions(service, version)).filter((d) => d.step === 'hotfix-order');

const nextApprovalRequest = (rt: LocalRuntime, service: string) =>
  new Promise<ApprovalRequested>((resolve) => {
    const off = rt.onApprovalRequested((r) => {
      if (r.service !== service) return;
      off();
      resolve(r);
    });
  });

/** v1.100.0 everywhere, then v1.101.0 (built with `newerCommits`) into dev and staging: the newer line is further along. */
async function newerLineInStaging(h: Harness, service: string, newerCommits: string[]): Promise<void> {
  const base = await ci(h, service, 'v1.100.0', { commits: [] });
  expect((await release(h, { service, version: 'v1.100.0' })).status).toBe('SUCCEEDED');
  await ci(h, service, 'v1.101.0', { commits: [...newerCommits, base] });
  expect((await release(h, { service, version: 'v1.101.0', environments: ['dev', 'staging'] })).status).toBe('SUCCEEDED');
  expect(await running(h, service)).toEqual({ dev: 'v1.101.0', staging: 'v1.101.0', prod: 'v1.100.0' });
}

/** Only prod, so that "older than what runs there" is prod's. */
const prodOnly = (s: RawService) => void (s.environments = [prodOf(s)]);

describe('dot releases and hotfix ordering', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: demoConfig({
        services: { fixed: null, lacking: null, twice: null, behind: prodOnly, forced: prodOnly },
        // Always open (no windows, no freezes): only the hotfix checks hold a release here.
        policy: { approvers: ['alice', 'bob', 'carol'], githubLogins: { alice: 'alice-gh' } },
      }),
    });
  });
  afterAll(async () => h?.close());

  it('ships v1.100.1 to prod when v1.101.0, further along in staging, lists the fix; dev and staging keep the newer line', async () => {
    const service = 'fixed';
    await newerLineInStaging(h, service, [sha('feature'), FIX]);
    await ci(h, service, 'v1.100.1', { fixes: [FIX] });
    const asked: ApprovalRequested[] = [];
    const off = h.rt.onApprovalRequested((r) => void asked.push(r));
    const s = await release(h, { service, version: 'v1.100.1' });
    off();

    expect(s.status, s.cause).toBe('SUCCEEDED');
    expect(asked).toEqual([]);
    expect(await running(h, service)).toEqual({ dev: 'v1.101.0', staging: 'v1.101.0', prod: 'v1.100.1' });
    expect(await h.promotedAnywhere(service, 'v1.100.1')).toEqual(['prod']);
    const decisions = await hotfixDecisions(h, service, 'v1.100.1');
    expect(decisions.map((d) => [d.environment, d.verdict])).toEqual([['dev', 'skipped'], ['staging', 'skipped'], ['prod', 'passed']]);
    expect(decisions[1]!.summary).toContain('staging runs v1.101.0, a newer line than 1.100: v1.100.1 passes staging by without deploying');
    expect(decisions[2]!.summary).toBe(`every newer line holds the fix CI reported for v1.100.1 (${FIX.slice(0, 12)}): v1.101.0 (dev, staging)`);
    // Passed by through the policy choice: no lock, no deploy in dev or staging.
    const entered = statesEntered(s.history);
    expect(entered.filter((n) => n === 'Acquire environment lock')).toHaveLength(1);
  });

  it('holds prod with the evidence when v1.101.0 lacks the fix; the person who pushed the tag may not acknowledge it, another approver may', async () => {
    const service = 'lacking';
    await newerLineInStaging(h, service, [sha('feature')]);
    const commit = await ci(h, service, 'v1.100.1', { fixes: [FIX] });
    const requested = nextApprovalRequest(h.rt, service);
    const { started } = h.rt.sendEvent({ source: 'tagflow', 'detail-type': 'Tag Pushed', detail: { repository: `acme/${service}`, tag: 'v1.100.1', commit, sender: 'alice-gh' } });
    expect(started).toHaveLength(1);
    const run = started[0]!.execution;
    const request = await requested;

    expect(request).toMatchObject({ kind: 'hotfix-order', environment: 'prod', version: 'v1.100.1', needed: 1, approvers: ['alice', 'bob', 'carol'] });
    const event = h.rt.emitted.find((e) => e.DetailType === 'Approval Requested' && (e.Detail as { service: string }).service === service)!;
    expect((event.Detail as { reason: string }).reason).toContain(`v1.101.0 lacks ${FIX.slice(0, 12)} (dev, staging)`);
    const held = (await hotfixDecisions(h, service, 'v1.100.1')).at(-1)!;
    expect(held).toMatchObject({ environment: 'prod', verdict: 'waiting', evidence: { lines: [{ version: 'v1.101.0', lacks: [FIX] }], fix: { commits: [FIX], source: 'fixes' } } });
    expect(held.summary).toContain(`v1.101.0 lacks ${FIX.slice(0, 12)}`);
    // Waiting before prod's lock: prod still runs v1.100.0.
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))).toMatchObject({ version: 'v1.100.0' });
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.lockHolder).toBeUndefined();

    await expect(h.rt.approve(request, 'alice')).rejects.toMatchObject({ name: 'ApproverNotAllowed' });
    expect(await h.rt.approve(request, 'bob')).toMatchObject({ kind: 'hotfix-order', status: 'approved', approvers: ['bob'] });
    const s = await run.done;

    expect(s.status, s.cause).toBe('SUCCEEDED');
    expect(await running(h, service)).toEqual({ dev: 'v1.101.0', staging: 'v1.101.0', prod: 'v1.100.1' });
    const approval = (await h.rt.deps.ledger.decisions(service, 'v1.100.1')).filter((d) => d.step === 'approval').at(-1)!;
    expect(approval).toMatchObject({ environment: 'prod', verdict: 'passed' });
    expect(approval.summary).toMatch(/^bob acknowledged the release of lacking v1\.100\.1 into prod ahead of a newer line that may lack its fix at /);
    const entered = statesEntered(s.history);
    const lock = entered.lastIndexOf('Acquire environment lock');
    expect(entered.slice(lock - 5, lock)).toEqual(['Deploy policy', 'Prepare approval request', 'Request approval', 'Verify approval', 'Promotion approval']);
  });

  it('asks once per release: acknowledged in dev, prod (same evidence, same execution) goes without asking again', async () => {
    const service = 'twice';
    await newerLineInStaging(h, service, [sha('feature')]);
    // dev back on the older line, so the dot release deploys there too.
    const back = await h.rt.startExecution('rollback', { service, environment: 'dev', reason: 'dev tests the 1.100 hotfix', toVersion: 'v1.100.0' }).done;
    expect(back.status, back.cause).toBe('SUCCEEDED');
    expect(await running(h, service)).toEqual({ dev: 'v1.100.0', staging: 'v1.101.0', prod: 'v1.100.0' });
    await ci(h, service, 'v1.100.1', { fixes: [FIX] });
    const asked: ApprovalRequested[] = [];
    const off = h.rt.onApprovalRequested((r) => {
      if (r.service !== service) return;
      asked.push(r);
      void h.rt.approve(r, 'bob');
    });
    const s = await release(h, { service, version: 'v1.100.1' });
    off();

    expect(s.status, s.cause).toBe('SUCCEEDED');
    expect(asked.map((r) => [r.kind, r.environment])).toEqual([['hotfix-order', 'dev']]);
    expect(await running(h, service)).toEqual({ dev: 'v1.100.1', staging: 'v1.101.0', prod: 'v1.100.1' });
    const decisions = await hotfixDecisions(h, service, 'v1.100.1');
    expect(decisions.map((d) => [d.environment, d.verdict])).toEqual([['dev', 'waiting'], ['staging', 'skipped'], ['prod', 'passed']]);
    expect(decisions[2]!.summary).toContain(`v1.101.0 lacks ${FIX.slice(0, 12)} (staging)`);
    expect(decisions[2]!.summary).toMatch(/acknowledged by bob in dev$/);
  });

  it('refuses v1.99.4 into a prod at v1.100.0 with VersionRegression, naming prod and its version; nothing is deployed', async () => {
    const service = 'behind';
    await ci(h, service, 'v1.100.0');
    expect((await release(h, { service, version: 'v1.100.0' })).status).toBe('SUCCEEDED');
    await ci(h, service, 'v1.99.4');
    const s = await release(h, { service, version: 'v1.99.4' });

    expect(s).toMatchObject({ status: 'FAILED', error: 'VersionRegression' });
    expect(s.cause).toContain('behind v1.99.4 is refused in prod: prod runs v1.100.0, newer than v1.99.4');
    expect(s.cause).toContain('release it as an emergency');
    expect(await running(h, service)).toEqual({ prod: 'v1.100.0' });
    expect(await h.promotedAnywhere(service, 'v1.99.4')).toEqual([]);
    expect(await h.rt.deps.ledger.getOutcome(service, 'v1.99.4')).toMatchObject({ outcome: 'failed', error: 'VersionRegression' });
    expect((await hotfixDecisions(h, service, 'v1.99.4')).map((d) => [d.environment, d.verdict])).toEqual([['prod', 'failed']]);
  });

  it('forces v1.99.4 into a prod at v1.100.0 as an emergency once two approvers approve; their request names the regression', async () => {
    const service = 'forced';
    await ci(h, service, 'v1.100.0');
    expect((await release(h, { service, version: 'v1.100.0' })).status).toBe('SUCCEEDED');
    await ci(h, service, 'v1.99.4');
    const requested = nextApprovalRequest(h.rt, service);
    const run = h.rt.startExecution('release', { service, version: 'v1.99.4', emergency: { reason: 'v1.100.0 corrupts invoices' } });
    const request = await requested;

    expect(request).toMatchObject({ kind: 'emergency', environment: 'prod', needed: 2 });
    const record = await h.rt.deps.approvals.get({ ...request, kind: 'emergency' });
    expect(record?.closed).toContain('prod runs v1.100.0, newer than v1.99.4');
    expect(await h.rt.approve(request, 'alice')).toMatchObject({ status: 'pending' });
    expect(await h.rt.approve(request, 'carol')).toMatchObject({ status: 'approved', approvers: ['alice', 'carol'] });
    const s = await run.done;

    expect(s.status, s.cause).toBe('SUCCEEDED');
    expect(await running(h, service)).toEqual({ prod: 'v1.99.4' });
    expect((await hotfixDecisions(h, service, 'v1.99.4')).map((d) => [d.environment, d.verdict])).toEqual([['prod', 'waiting']]);
  });
});
