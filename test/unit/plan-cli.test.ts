import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../lambdas/lib/config.js';
import { estimateStep, recommendLooks, simulateStep } from '../../lambdas/lib/judge/plan.js';
import type { Ledger } from '../../lambdas/lib/ports.js';
import type { EnvironmentState } from '../../lambdas/lib/types.js';
import { main } from '../../local/cli/main.js';
import { liveTrafficMeter, percent, planReport, span } from '../../local/cli/plan.js';
import type { LocalFleet, RequestSample } from '../../local/runtime/fleet.js';
import { FleetMetrics } from '../../local/runtime/fleet-metrics.js';

/** `tagflow plan`: what the traffic allows each canary step, as `lambdas/lib/judge/plan.ts` computes it. */

type Canary = Record<string, unknown>;
const configOf = (canary: Canary) => ({
  services: {
    shop: {
      environments: [{ name: 'dev' }, { name: 'prod', canary: { steps: [10, 50, 100], pollSeconds: 60, maxBakeSeconds: 600, metrics: ['errors'], ...canary } }],
    },
  },
});

/** Runs `tagflow plan` on a config written to its own folder; what it printed, line by line. */
async function plan(args: string[], canary: Canary = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tagflow-plan-'));
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk).replace(/\n$/, '')), true));
  try {
    writeFileSync(join(dir, 'tagflow.config.json'), JSON.stringify(configOf(canary)));
    const code = await main(['plan', '--config', join(dir, 'tagflow.config.json'), '--data-dir', join(dir, 'data'), ...args]);
    return { code, out, err };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The table's cells by row label: columns are three or more spaces apart. */
const table = (lines: string[]) => new Map(lines.filter((l) => /^ {2}\S.* {3,}/.test(l)).map((l) => l.trim().split(/ {3,}/)).map(([label, ...cells]) => [label!, cells]));

const traffic = { requestsPerMinute: 600, errorRate: 0.01 };
const judge = { alpha: 0.05, metrics: ['errors' as const], custom: [], passRatio: 2, maxErrorRateIncrease: 0.0025, maxSlowShareIncrease: 0.005, beta: 0.003, minCanaryRequests: 50 };

describe('tagflow plan', () => {
  it('prints, per canary step below 100%, the bake, the expected errors, the closed-form chances and the real judge\'s on seeded runs', async () => {
    const r = await plan(['--service', 'shop', '--traffic', '600/min', '--error-rate', '1%', '--runs', '20']);

    expect(r.code).toBe(0);
    expect(r.out.slice(0, 3)).toEqual([
      'shop prod: steps 10% → 50% → 100%, a look every 60 s, judged on errors (alpha 0.05)',
      '  traffic     600 requests/min to the environment (given with --traffic)',
      '  error rate  1% (given with --error-rate)',
    ]);
    const rows = table(r.out);
    expect(rows.get('step')).toEqual(['10%', '50%']);
    expect(rows.get('bake')).toEqual(['10 min (10 looks)', '10 min (10 looks)']);
    expect(rows.get('canary requests in the bake')).toEqual(['600', '3,000']);
    expect(rows.get('expected canary errors')).toEqual(['6', '30']);
    for (const [i, weight] of [0.1, 0.5].entries()) {
      const input = { traffic, weight, looks: 10, pollSeconds: 60, judge };
      const e = estimateStep(input, [2, 5]);
      const caught = (chance: number, minutes: number | null) => `${percent(chance)} (${minutes === null ? '-' : span(minutes)})`;
      expect(rows.get('estimate: healthy passes')![i]).toBe(percent(e.healthyPass));
      expect(rows.get('estimate: errors ×2 caught')![i]).toBe(caught(e.caught[0]!.chance, e.caught[0]!.medianMinutes));
      expect(rows.get('estimate: errors ×5 caught')![i]).toBe(caught(e.caught[1]!.chance, e.caught[1]!.medianMinutes));
      const healthy = simulateStep({ ...input, runs: 20, seed: 1 });
      expect(rows.get('judge, 20 runs: healthy passes')![i]).toBe(`${percent(healthy.pass)} (${percent(healthy.fail)} fail)`);
      const x5 = simulateStep({ ...input, errorMultiplier: 5, runs: 20, seed: 1 });
      expect(rows.get('judge, 20 runs: errors ×5 caught')![i]).toBe(caught(x5.fail, x5.medianFailMinutes));
      expect(rows.get('bake for 95% healthy passes')![i]).toBe(span(recommendLooks(input, 1440).looks));
    }
    expect(r.out).toContain('  bake: maxBakeSeconds 600');
    // Progress on stderr, one line per simulation: a healthy canary, ×2, ×5 for each step.
    expect(r.err.filter((l) => l.includes('simulating'))).toHaveLength(6);
    expect(r.err[0]).toBe('shop prod at 10%: simulating a healthy canary, 20 runs of up to 10 looks (1/3)…');
    // Seeded: the same plan twice.
    expect((await plan(['--service', 'shop', '--traffic', '600/min', '--error-rate', '1%', '--runs', '20'])).out).toEqual(r.out);
  });

  it('ends with what to change for a step a healthy canary is unlikely to pass, and says nothing for one it passes', async () => {
    const quiet = await plan(['--service', 'shop', '--environment', 'prod', '--traffic', '60/min', '--error-rate', '0.5%', '--runs', '0']);
    const low = recommendLooks({ traffic: { requestsPerMinute: 60, errorRate: 0.005 }, weight: 0.1, pollSeconds: 60, judge }, 1440);
    const advice = quiet.out.find((l) => l.startsWith('shop prod at 10%:'))!;
    expect(advice).toMatch(/^shop prod at 10%: a healthy canary passes within its 10 min bake in only \S+ of releases; to pass 95%, set maxBakeSeconds to (\d+) /);
    expect(advice).toContain(`set maxBakeSeconds to ${low.looks * 60} (${span(low.looks)})`);
    expect(advice).toContain('leave the 10% step out (steps [50, 100])');
    expect(quiet.out.some((l) => l.startsWith('shop prod at 50%:'))).toBe(true);
    // No simulation asked for: no judge rows, no progress.
    expect(table(quiet.out).has('judge, 0 runs: healthy passes')).toBe(false);
    expect(quiet.err).toEqual([]);

    const busy = await plan(['--service', 'shop', '--traffic', '20000/min', '--error-rate', '1%', '--runs', '0'], { maxBakeSeconds: 1800 });
    expect(table(busy.out).get('estimate: healthy passes')!.every((cell) => Number.parseFloat(cell.replace(/[<>]/, '')) >= 50)).toBe(true);
    expect(busy.out.filter((l) => l.startsWith('shop prod at'))).toEqual([]);
  });

  it('bakes a step without maxBakeSeconds as long as its traffic needs, and says when bakeCapSeconds binds', async () => {
    const follows = await plan(['--service', 'shop', '--traffic', '3000/min', '--error-rate', '1%', '--runs', '0'], { maxBakeSeconds: undefined });
    const looks = [0.1, 0.5].map((weight) => recommendLooks({ traffic: { requestsPerMinute: 3000, errorRate: 0.01 }, weight, pollSeconds: 60, judge }, 240).looks);
    expect(table(follows.out).get('bake')).toEqual(looks.map((l) => `${span(l)} (${l} looks)`));
    expect(follows.out).toContain('  bake: the default: the shortest reaching 95%');

    const capped = await plan(['--service', 'shop', '--traffic', '30/min', '--error-rate', '1%', '--runs', '0'], { maxBakeSeconds: undefined, bakeCapSeconds: 600 });
    expect(table(capped.out).get('bake')).toEqual(['10 min (10 looks)', '10 min (10 looks)']);
    expect(capped.out).toContain('  bake: the default, cut at bakeCapSeconds 600: the cap binds');
    expect(capped.out.find((l) => l.startsWith('shop prod at 10%:'))).toMatch(/raise bakeCapSeconds to \d+/);
  });

  it.each([
    [['--traffic', 'lots'], /^error: --traffic "lots": expected requests per minute to the whole environment \(both arms\), above 0, e\.g\. --traffic 600\/min$/],
    [['--traffic', '0/min'], /^error: --traffic "0\/min": expected requests per minute/],
    [['--traffic', '600/min', '--error-rate', '5'], /^error: --error-rate "5": expected the share of requests that fail, from 0 to below 100%, as a percentage or a fraction, e\.g\. --error-rate 0\.5%/],
    [['--traffic', '600/min', '--error-rate', '1%', '--runs', '2.5'], /^error: --runs "2\.5": expected a whole number of simulated releases from 0 \(no simulation\) to 100000/],
    [['--traffic', '600/min', '--error-rate', '1%', '--environment', 'staging'], /^error: --environment staging: shop has no such environment; it has dev, prod$/],
    [['--traffic', '600/min', '--error-rate', '1%', '--environment', 'dev'], /^error: --environment dev: shop releases there all at once \(no canary config\); its canary environments: prod$/],
  ])('refuses %j in one line naming the field and what to pass', async (args, message) => {
    const r = await plan(['--service', 'shop', ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(message);
    expect(r.out).toEqual([]);
  });

  it('refuses an unknown service and a missing --service', async () => {
    const r = await plan(['--service', 'cart', '--traffic', '600/min', '--error-rate', '1%']);
    expect([r.code, r.err]).toEqual([2, ['error: --service cart: no such service in the config; it has shop']]);
    await expect(main(['plan', '--traffic', '600/min'])).rejects.toThrow('--service is required, e.g. --service checkout');
  });

  it('without --traffic and with nothing measured, names what to pass', async () => {
    // A fresh data folder: nothing is live, so nothing to measure.
    const r = await plan(['--service', 'shop']);
    expect(r.code).toBe(2);
    expect(r.err.filter((l) => l.startsWith('error:'))).toEqual([
      'error: no traffic measured for shop prod (nothing is live in prod yet); pass --traffic N/min, the requests per minute to the whole environment, e.g. --traffic 600/min (and --error-rate, default 0.5%)',
    ]);
  });
});

describe('plan traffic', () => {
  const config = parseConfig(configOf({}));
  const NOW = new Date('2026-11-30T12:00:00Z');
  const state = (version?: string): EnvironmentState => ({ service: 'shop', environment: 'prod', healthy: true, goodVersions: [], refs: version ? { [version]: version } : {}, revision: 1, ...(version ? { version } : {}) });
  const ledgerWith = (s: EnvironmentState): Pick<Ledger, 'getEnvironment'> => ({ getEnvironment: async () => s });
  // 1000 requests of v1 over the last 100 minutes, every 100th failing; one of another version.
  const samples: RequestSample[] = [
    ...Array.from({ length: 1000 }, (_, i) => ({ at: NOW.getTime() - 100 * 60_000 + i * 6_000, version: 'v1', status: i % 100 === 0 ? 500 : 200, latencyMs: 20 })),
    { at: NOW.getTime() - 60_000, version: 'v0', status: 500, latencyMs: 20 },
  ];
  const fleet = { samples: (_s: string, _e: string, since: number, until: number) => samples.filter((s) => s.at >= since && s.at <= until) } as unknown as LocalFleet;
  const meter = liveTrafficMeter({ ledger: ledgerWith(state('v1')), metrics: () => new FleetMetrics(fleet), now: () => NOW });

  it('uses the live version\'s last 7 days when --traffic is not given', async () => {
    const lines = await planReport(config, { service: 'shop', runs: 0 }, { meter });
    expect(lines.slice(1, 3)).toEqual([
      '  traffic     10 requests/min to the environment (measured over the last 7 days: v1 served 1,000 requests, 10 errors in 100 min)',
      '  error rate  1% (measured, as above)',
    ]);
  });

  it('takes the measured error rate beside --traffic, and says when the error rate is an assumption', async () => {
    const measured = await planReport(config, { service: 'shop', requestsPerMinute: 600, runs: 0 }, { meter });
    expect(measured[2]).toBe('  error rate  1% (measured over the last 7 days: v1 served 1,000 requests, 10 errors in 100 min)');
    const none = liveTrafficMeter({ ledger: ledgerWith(state('v9')), metrics: () => new FleetMetrics(fleet), now: () => NOW });
    const assumed = await planReport(config, { service: 'shop', requestsPerMinute: 600, runs: 0 }, { meter: none });
    expect(assumed[2]).toBe('  error rate  0.5% (an assumption: nothing measured (the live v9 served no requests in the last 7 days that this process can see); pass --error-rate to use yours)');
  });

  it('says why a target\'s traffic cannot be measured here', async () => {
    const cloud = liveTrafficMeter({
      ledger: ledgerWith(state('v1')),
      metrics: () => {
        throw new Error('metrics for deploy target "lambda-alias" come from CloudWatch in AWS');
      },
      now: () => NOW,
    });
    await expect(planReport(config, { service: 'shop', runs: 0 }, { meter: cloud })).rejects.toThrow('no traffic measured for shop prod (metrics for deploy target "lambda-alias" come from CloudWatch in AWS); pass --traffic N/min');
  });
});
