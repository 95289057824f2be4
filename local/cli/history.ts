import type { PipelineConfig } from '../../lambdas/lib/config.js';
import type { Ledger } from '../../lambdas/lib/ports.js';
import { configVersionOf } from '../../lambdas/lib/version.js';
import { nothingMatches } from './nothing-matches.js';
import { bold, dim } from './progress.js';
import { standingOf } from './release-standing.js';

/**
 * `tagflow history --service S [--version V]`: each release (or the one asked for) with where
 * it stands and every decision with its summary. A service or version that matches nothing is
 * a NothingMatches error (exit 2) naming the nearest one, never an empty listing.
 */
export async function historyLines(ledger: Pick<Ledger, 'releases' | 'decisions' | 'services'>, service: string, version?: string, config?: PipelineConfig): Promise<string[]> {
  const releases = await ledger.releases(service);
  if (releases.length === 0) {
    const known = [...new Set([...Object.keys(config?.services ?? {}), ...(await ledger.services())])].sort();
    if (!known.includes(service)) throw nothingMatches('--service', service, known, 'service', 'in the config and the ledger');
    if (version !== undefined) throw nothingMatches('--version', version, [], 'release', `of ${service}`);
    return [`no releases of ${service} yet`];
  }
  const shown = version === undefined ? releases : releases.filter((r) => r.release.version === version);
  if (shown.length === 0) throw nothingMatches('--version', version!, releases.map((r) => r.release.version), 'release', `of ${service}`);
  const lines: string[] = [];
  for (const { release, outcome } of shown) {
    const decisions = await ledger.decisions(service, release.version);
    const current = outcome && outcome.executionId === release.executionId ? outcome : undefined;
    const standing = standingOf(current, decisions);
    // A config-only release says so, and what it ships: the code of its base build.
    const kind = release.releaseKind === 'config' ? `config release of ${configVersionOf(release.version)?.base ?? '?'}  ` : '';
    lines.push(bold(`${release.version}  ${kind}${standing.word}  ${dim(release.startedAt)}`));
    if (standing.word === 'rolled-back' && current?.outcome === 'succeeded') lines.push(`  ${standing.reason}`);
    for (const d of decisions) lines.push(`  ${dim(d.at)} ${d.step.padEnd(16)} ${(d.environment ?? '').padEnd(8)} ${d.verdict.padEnd(7)} ${d.summary}`);
  }
  return lines;
}
