import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../lambdas/lib/ports.js';
import { systemClock } from '../../lambdas/lib/ports.js';
import { freeze, parseFreeze, unfreeze } from '../../local/cli/freeze.js';
import { main } from '../../local/cli/main.js';
import { demoConfig, startHarness, statesEntered, type Harness } from '../support/harness.js';
import { SAMPLE_POLICY } from '../support/policy.js';

/**
 * Issue 14: freezes declared at run time (`tagflow freeze`), in the ledger, with no deploy —
 * the CLI commands over the local runtime, and a release that such a freeze stops.
 */

const strip = (s: string) => s.replace(/\u001b\[\d+m/g, '');

describe('tagflow freeze: validation', () => {
  const config = demoConfig({ services: ['billing'] });
  const now = new Date('2026-11-30T18:00:00Z');
  const problems = (flags: Parameters<typeof parseFreeze>[0]) => {
    try {
      parseFreeze(flags, config, now, 'alice@laptop');
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected a validation error');
  };

  it('names each bad field', () => {
    const all = problems({});
    expect(all).toContain('--environments is required');
    expect(all).toContain('--until is required');
    expect(all).toContain('--reason is required');
    expect(problems({ environments: 'prod,qa', until: '2026-12-02T09:00Z', reason: 'x' })).toMatch(/^--environments: no service has an environment "qa"; environments: dev, staging, prod$/);
    expect(problems({ environments: 'prod', until: '2026-12-02 09:00', reason: 'x' })).toContain('--until: "2026-12-02 09:00" is not an ISO 8601 time with a zone');
    expect(problems({ environments: 'prod', until: '2026-12-02T09:00', reason: 'x' })).toContain('is not an ISO 8601 time with a zone');
    expect(problems({ environments: 'prod', until: '2026-11-30T17:00Z', reason: 'x' })).toBe('--until: 2026-11-30T17:00Z is not in the future (now 2026-11-30T18:00:00.000Z)');
    expect(problems({ environments: 'prod', until: '2026-12-02T09:00Z', reason: '  ' })).toContain('--reason is required');
    expect(problems({ environments: 'prod', until: '2026-12-02T09:00Z', reason: 'x', service: 'nope' })).toContain('--service: no service "nope" in the config; services: demo, billing');
    expect(problems({ environments: 'prod', until: '2026-12-02T09:00Z', reason: 'x', name: 'a b' })).toContain('--name: "a b" is not a name');
  });

  it('normalises the input into what the ledger keeps', () => {
    expect(parseFreeze({ environments: 'prod, staging,prod', until: '2026-12-02T10:00+01:00', reason: 'INC-1', service: 'billing' }, config, now, 'alice@laptop')).toEqual({
      name: 'freeze-20261130T1800Z',
      environments: ['prod', 'staging'],
      service: 'billing',
      reason: 'INC-1',
      from: '2026-11-30T18:00:00.000Z',
      until: '2026-12-02T09:00:00.000Z',
      frozenBy: 'alice@laptop',
      frozenAt: '2026-11-30T18:00:00.000Z',
    });
  });
});

describe('tagflow freeze, status, unfreeze (the CLI over a local data folder)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagflow-freeze-cli-'));
    const raw = JSON.parse(JSON.stringify({ services: { demo: { environments: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }] } } }));
    writeFileSync(join(dir, 'tagflow.config.json'), JSON.stringify(raw));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(strip(a.join(' '))));
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(strip(a.join(' '))));
    try {
      const code = await main([...args, '--config', join(dir, 'tagflow.config.json'), '--data-dir', join(dir, 'data')]);
      return { code, out: out.join('\n'), err: err.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }

  it('refuses bad input with exit 2, then freezes, shows it in status, and unfreezes with who', async () => {
    const until = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16) + 'Z';
    const bad = await cli('freeze', '--environments', 'qa', '--until', until);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--environments: no service has an environment "qa"');
    expect(bad.err).toContain('--reason is required');

    const frozen = await cli('freeze', '--environments', 'prod', '--until', until, '--reason', 'INC-4211: payments degraded', '--name', 'inc-4211');
    expect(frozen.code).toBe(0);
    expect(frozen.out).toMatch(/❄ freeze "inc-4211": prod until .* — INC-4211: payments degraded \(frozen by .+ at /);
    expect((await cli('freeze', '--environments', 'prod', '--until', until, '--reason', 'again', '--name', 'inc-4211')).err).toContain('--name: a freeze "inc-4211" is in force already');

    const status = await cli('status');
    expect(status.code).toBe(0);
    expect(status.out).toContain('❄ freeze "inc-4211": prod until');

    expect((await cli('unfreeze', 'nope')).err).toBe('NAME: no freeze "nope" is in force; in force: inc-4211');
    const unfrozen = await cli('unfreeze', 'inc-4211');
    expect(unfrozen.code).toBe(0);
    expect(unfrozen.out).toMatch(/✓ unfroze freeze "inc-4211": .*; unfrozen by .+ at /);
    expect((await cli('status')).out).not.toContain('❄');
    expect((await cli('unfreeze', 'inc-4211')).code).toBe(2);
  });
});

/** A clock that starts at `iso` and then ticks with real time. */
function clockFrom(iso: string): Clock {
  const start = Date.parse(iso);
  const t0 = Date.now();
  return { now: () => new Date(start + (Date.now() - t0)), sleep: systemClock.sleep };
}

describe('a release into a freeze declared in the ledger', () => {
  let h: Harness;
  const config = demoConfig({ policy: SAMPLE_POLICY });
  // Wednesday 3 June 2026, 10:00 in Berlin: inside prod's window, no configured freeze.
  beforeAll(async () => {
    h = await startHarness({ config, clock: clockFrom('2026-06-03T08:00:00Z') });
  });
  afterAll(async () => h?.close());

  it('stops at prod with DeployWindowClosed naming the freeze and who froze it; after unfreeze the next release ships', async () => {
    const now = h.rt.clock.now();
    await freeze(h.rt.deps.ledger, config, { environments: 'prod', until: '2026-06-20T00:00Z', reason: 'INC-4211: payments degraded', name: 'inc-4211' }, now, 'alice@laptop');
    await h.publish('v1.0.0');
    const s = await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0' }).done;

    expect(s).toMatchObject({ status: 'FAILED', error: 'DeployWindowClosed' });
    expect(s.cause).toContain('in the freeze "inc-4211" (declared by alice@laptop) until');
    expect(s.cause).toContain('(INC-4211: payments degraded)');
    expect(statesEntered(s.history)).not.toContain('Wait for deploy window');
    expect(await h.promotedAnywhere('demo', 'v1.0.0')).toEqual(['dev', 'staging']);
    const decision = (await h.rt.deps.ledger.decisions('demo', 'v1.0.0')).find((d) => d.step === 'policy' && d.environment === 'prod')!;
    expect(decision).toMatchObject({ verdict: 'failed', summary: expect.stringContaining('"inc-4211" (declared by alice@laptop)') });

    await unfreeze(h.rt.deps.ledger, 'inc-4211', h.rt.clock.now(), 'bob@laptop');
    expect((await h.rt.deps.ledger.freezes())[0]).toMatchObject({ name: 'inc-4211', frozenBy: 'alice@laptop', unfrozenBy: 'bob@laptop' });
    await h.publish('v1.0.1');
    expect((await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.1' }).done).status).toBe('SUCCEEDED');
  });
});

describe('a release into a short freeze declared in the ledger', () => {
  let h: Harness;
  const config = demoConfig({ policy: SAMPLE_POLICY, services: ['thawing'] });
  // Wednesday 3 June 2026, 10:00 in Berlin: inside prod's window; the freeze ends at 12:00, well within maxWaitHours.
  beforeAll(async () => {
    h = await startHarness({ config, clock: clockFrom('2026-06-03T08:00:00Z') });
  });
  afterAll(async () => h?.close());

  it('waits at prod until the freeze ends, naming it, holding no lock, and then ships', async () => {
    const service = 'thawing';
    await freeze(h.rt.deps.ledger, config, { environments: 'prod', service, until: '2026-06-03T10:00Z', reason: 'INC-77: card network maintenance', name: 'inc-77' }, h.rt.clock.now(), 'alice@laptop');
    await h.publish('v1.0.0', { service });
    const s = await h.rt.startExecution('release', { service, version: 'v1.0.0' }).done;

    expect(s.status, s.cause).toBe('SUCCEEDED');
    const entered = statesEntered(s.history);
    expect(entered.filter((n) => n === 'Wait for deploy window')).toHaveLength(1);
    // The wait comes before prod's lock: dev and staging took theirs, prod only after the wait.
    expect(entered.indexOf('Wait for deploy window')).toBeLessThan(entered.lastIndexOf('Acquire environment lock'));
    const policy = (await h.rt.deps.ledger.decisions(service, 'v1.0.0')).filter((d) => d.step === 'policy' && d.environment === 'prod');
    expect(policy.map((d) => d.verdict)).toEqual(['waiting', 'passed']);
    expect(policy[0]!.summary).toContain('in the freeze "inc-77" (declared by alice@laptop) until');
    expect(policy[0]!.summary).toContain('(INC-77: card network maintenance)');
    expect(policy[0]!.summary).toContain('2026-06-03T10:00:00.000Z');
    const deployed = (await h.rt.deps.ledger.decisions(service, 'v1.0.0')).find((d) => d.step === 'deploy' && d.environment === 'prod')!;
    expect(Date.parse(deployed.at)).toBeGreaterThanOrEqual(Date.parse('2026-06-03T10:00:00Z'));
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.version).toBe('v1.0.0');
  });
});
