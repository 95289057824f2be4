import { nearestRank } from './percentile.js';
import type { Decision, ReleaseRecord } from './types.js';
import { releaseKindOf } from './version.js';

/**
 * The four DORA figures of one service, read from the ledger's decisions: nothing is recorded
 * for them separately, so they cannot disagree with what the pipeline did.
 *
 * - A release is *deployed* to production when the new version first took traffic there (a
 *   `deploy`, or a canary that started or was skipped), inside the window.
 * - It *failed* in production when production was rolled back from it (a failed canary or
 *   smoke test, or an alarm or a person starting the rollback machine later).
 * - Lead time runs from the release's start (the tag push, image push or manual start: the
 *   ledger knows no commit time) to production recording the version as known-good.
 * - Time to restore runs from the bad version taking traffic to the rollback being done: what
 *   users were exposed to, detection included.
 * - Config-only releases (`v1.4.0-config.1`: the same code, new configuration) are counted
 *   apart, in `config`: deployment frequency, lead time and change failure rate measure how
 *   code is delivered, and a config recycle is not a delivery of code. Time to restore counts
 *   every rollback of production, whatever broke it, since users were exposed either way.
 */

export interface ReleaseHistory {
  release: ReleaseRecord;
  decisions: Decision[];
}

export interface DoraFigures {
  service: string;
  environment: string;
  windowDays: number;
  deployments: number;
  /** Production deployments per day over the window. */
  deploysPerDay: number;
  /** Deployments that production kept (recorded known-good and not rolled back). */
  succeeded: number;
  failed: number;
  /** failed / deployments; null without deployments. */
  changeFailureRate: number | null;
  leadTimeMs: Summary | null;
  /** From every rollback of production, code or config release alike. */
  timeToRestoreMs: Summary | null;
  /** Config-only releases, counted apart from the code deployments above. */
  config: ConfigFigures;
}

export interface ConfigFigures {
  deployments: number;
  succeeded: number;
  failed: number;
  /** failed / deployments; null without deployments. */
  changeFailureRate: number | null;
}

export interface Summary {
  median: number;
  p90: number;
  count: number;
}

export function doraFigures(service: string, environment: string, histories: ReleaseHistory[], now: Date, windowDays: number): DoraFigures {
  if (!(windowDays > 0)) throw new RangeError(`windowDays must be > 0, got ${windowDays}`);
  const from = now.getTime() - windowDays * 86_400_000;
  const leadTimes: number[] = [];
  const restores: number[] = [];
  let deployments = 0;
  let failed = 0;
  let succeeded = 0;
  const config: ConfigFigures = { deployments: 0, succeeded: 0, failed: 0, changeFailureRate: null };
  for (const { release, decisions } of histories) {
    const isConfig = release.releaseKind === 'config' || releaseKindOf(release.version) === 'config';
    const here = decisions.filter((d) => d.environment === environment).sort((a, b) => a.at.localeCompare(b.at));
    const live = here.find(tookTraffic);
    if (!live || Date.parse(live.at) < from || Date.parse(live.at) > now.getTime()) continue;
    const restored = here.find((d) => d.step === 'rollback' && d.verdict === 'done' && d.at >= live.at);
    if (isConfig) {
      config.deployments++;
      if (restored) {
        config.failed++;
        restores.push(Date.parse(restored.at) - Date.parse(live.at));
      } else if (here.some((d) => d.step === 'record-stage' && d.verdict === 'passed')) config.succeeded++;
      continue;
    }
    deployments++;
    if (restored) {
      failed++;
      restores.push(Date.parse(restored.at) - Date.parse(live.at));
      continue;
    }
    const good = here.find((d) => d.step === 'record-stage' && d.verdict === 'passed');
    if (good) {
      succeeded++;
      leadTimes.push(Date.parse(good.at) - Date.parse(release.startedAt));
    }
  }
  return {
    service,
    environment,
    windowDays,
    deployments,
    deploysPerDay: deployments / windowDays,
    succeeded,
    failed,
    changeFailureRate: deployments > 0 ? failed / deployments : null,
    leadTimeMs: summary(leadTimes),
    timeToRestoreMs: summary(restores),
    config: { ...config, changeFailureRate: config.deployments > 0 ? config.failed / config.deployments : null },
  };
}

/** The decisions after which the new version served requests in the environment. */
function tookTraffic(d: Decision): boolean {
  return (d.step === 'deploy' && d.verdict === 'done') || (d.step === 'canary' && (d.verdict === 'done' || d.verdict === 'skipped'));
}

function summary(values: number[]): Summary | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return { median: nearestRank(s, 0.5), p90: nearestRank(s, 0.9), count: s.length };
}
