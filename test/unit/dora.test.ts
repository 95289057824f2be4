import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/lib/config.js';
import { doraFigures, type ReleaseHistory } from '../../lambdas/lib/dora.js';
import type { Ledger } from '../../lambdas/lib/ports.js';
import type { Decision } from '../../lambdas/lib/types.js';
import { doraReport } from '../../local/cli/dora.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const MIN = 60_000;
const at = (minutesBeforeNow: number) => new Date(NOW.getTime() - minutesBeforeNow * MIN).toISOString();

function history(version: string, startedMinAgo: number, decisions: [step: string, env: string, verdict: Decision['verdict'], minAgo: number][]): ReleaseHistory {
  return {
    release: { releaseId: `api@${version}`, service: 'api', version, trigger: { kind: 'tag-push' }, executionId: `x-${version}`, startedAt: at(startedMinAgo), plan: ['dev', 'prod'], configSnapshot: '{}' },
    decisions: decisions.map(([step, environment, verdict, minAgo]) => ({ releaseId: `api@${version}`, service: 'api', version, step, environment, verdict, at: at(minAgo), summary: step })),
  };
}

describe('DORA figures from the ledger', () => {
  const histories = [
    // Shipped: live in prod 50 min after the tag, known-good 10 min later.
    history('v1.0.0', 3000, [['deploy', 'dev', 'done', 2990], ['deploy', 'prod', 'done', 2950], ['record-stage', 'prod', 'passed', 2940]]),
    // Failed its prod canary: canary started, rolled back 4 min later.
    history('v1.1.0', 2000, [['deploy', 'dev', 'done', 1990], ['canary', 'prod', 'done', 1980], ['judge', 'prod', 'failed', 1977], ['rollback', 'prod', 'done', 1976]]),
    // Shipped (no canary: nothing healthy live), then an alarm rolled prod back 30 min later.
    history('v1.2.0', 1000, [['canary', 'prod', 'skipped', 990], ['record-stage', 'prod', 'passed', 985], ['rollback', 'prod', 'done', 960]]),
    // Stopped in dev: never reached prod, so not a production deployment.
    history('v1.3.0', 500, [['deploy', 'dev', 'done', 495], ['rollback', 'dev', 'done', 494]]),
    // Shipped 20 min after its tag.
    history('v1.4.0', 100, [['deploy', 'prod', 'done', 90], ['record-stage', 'prod', 'passed', 80]]),
  ];

  it('counts production deployments, failures, lead time and time to restore', () => {
    const d = doraFigures('api', 'prod', histories, NOW, 7);
    expect(d).toMatchObject({ deployments: 4, succeeded: 2, failed: 2, changeFailureRate: 0.5 });
    expect(d.deploysPerDay).toBeCloseTo(4 / 7, 10);
    expect(d.leadTimeMs).toEqual({ median: 20 * MIN, p90: 60 * MIN, count: 2 });
    expect(d.timeToRestoreMs).toEqual({ median: 4 * MIN, p90: 30 * MIN, count: 2 });
  });

  it('only counts deployments inside the window', () => {
    const d = doraFigures('api', 'prod', histories, NOW, 1); // the last 1440 minutes
    expect(d).toMatchObject({ deployments: 2, failed: 1, succeeded: 1, changeFailureRate: 0.5 });
    expect(d.leadTimeMs).toEqual({ median: 20 * MIN, p90: 20 * MIN, count: 1 });
  });

  it('has no rates without deployments, and refuses an empty window', () => {
    const d = doraFigures('api', 'prod', [], NOW, 30);
    expect(d).toMatchObject({ deployments: 0, deploysPerDay: 0, changeFailureRate: null, leadTimeMs: null, timeToRestoreMs: null });
    expect(() => doraFigures('api', 'prod', [], NOW, 0)).toThrow(/windowDays must be > 0/);
  });
});

describe('tagflow dora', () => {
  it('reports each service on its last environment, from the ledger', async () => {
    const histories = [
      history('v1.0.0', 3000, [['deploy', 'prod', 'done', 2950], ['record-stage', 'prod', 'passed', 2940]]),
      history('v1.1.0', 2000, [['canary', 'prod', 'done', 1980], ['rollback', 'prod', 'done', 1976]]),
    ];
    const ledger = {
      services: async () => ['api'],
      releases: async () => histories.map(({ release }) => ({ release })),
      decisions: async (_: string, version: string) => histories.find((h) => h.release.version === version)!.decisions,
    } as unknown as Ledger;
    const config = parseConfig({ services: { api: { environments: [{ name: 'dev' }, { name: 'prod' }] } } });

    const lines = (await doraReport(ledger, config, NOW, 7)).map((l) => l.replace(/\u001b\[\d+m/g, ''));

    expect(lines).toEqual([
      'api in prod, last 7 days',
      '  deployment frequency  2 deployments (0.29 a day)',
      '  lead time             median 60 min, p90 60 min (1)  tag or start → known-good in prod',
      '  change failure rate   50% (1 of 2 rolled back)',
      '  time to restore       median 4 min, p90 4 min (1)  bad version live → rollback done',
      '  config releases       0 (same code, new configuration; not counted above)',
    ]);
  });
});
