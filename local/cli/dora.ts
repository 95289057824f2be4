import type { PipelineConfig } from '../../lambdas/lib/config.js';
import { doraFigures, type Summary } from '../../lambdas/lib/dora.js';
import type { Ledger } from '../../lambdas/lib/ports.js';
import { configReleasesLine } from './dora-config.js';
import { bold, dim } from './progress.js';

/** `tagflow dora`: the four DORA figures of each service's last environment (production), from the ledger. */
export async function doraReport(ledger: Ledger, config: PipelineConfig, now: Date, windowDays: number, only?: string): Promise<string[]> {
  const names = only ? [only] : [...new Set([...Object.keys(config.services), ...(await ledger.services())])].sort();
  const lines: string[] = [];
  for (const service of names) {
    const environment = config.services[service]?.environments.at(-1)?.name ?? 'prod';
    const histories = await Promise.all((await ledger.releases(service)).map(async ({ release }) => ({ release, decisions: await ledger.decisions(service, release.version) })));
    const d = doraFigures(service, environment, histories, now, windowDays);
    lines.push(bold(`${service} in ${environment}, last ${windowDays} days`));
    lines.push(`  deployment frequency  ${d.deployments} deployments (${round(d.deploysPerDay)} a day)`);
    lines.push(`  lead time             ${span(d.leadTimeMs)}${dim('  tag or start → known-good in ' + environment)}`);
    lines.push(`  change failure rate   ${d.changeFailureRate === null ? '-' : `${round(100 * d.changeFailureRate)}% (${d.failed} of ${d.deployments} rolled back)`}`);
    lines.push(`  time to restore       ${span(d.timeToRestoreMs)}${dim('  bad version live → rollback done')}`);
    lines.push(configReleasesLine(d));
  }
  return lines;
}

const round = (x: number) => String(Number(x.toPrecision(2)));

function span(s: Summary | null): string {
  if (!s) return '-';
  return `median ${duration(s.median)}, p90 ${duration(s.p90)} (${s.count})`;
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${round(ms / 3_600_000)} h`;
  return `${round(ms / 86_400_000)} d`;
}
