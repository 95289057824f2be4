import { checkNewerLines, checkTarget, newerLines, type Fix, type LinesVerdict, type NewerBuild, type RunningVersion, type TargetVerdict } from '../hotfix-order.js';
import { manifestKey, testReportKey } from '../keys.js';
import { parseManifest, parseTestReport } from '../manifest.js';
import type { Deps, ObjectReader } from '../ports.js';
import { readJson } from '../store-json.js';
import type { BuildManifest, ReleaseRequest } from '../types.js';
import { configVersionOf } from '../version.js';

/**
 * The facts hotfix-order.ts judges, read when the policy step enters an environment: what each
 * environment of the service runs (the ledger), the release's fix (its CI results' `fixes`, else
 * its commit) and the `commits` of the newer lines' builds (their manifests). Manifests and CI
 * results are read only when a newer line runs somewhere, so an ordinary release reads nothing.
 * A config-only release (`v1.100.0-config.1`) ships no new code, so it has no fix to look for:
 * only the environment's order applies to it.
 */

export type HotfixDeps = Pick<Deps, 'ledger' | 'locations'> & { store: ObjectReader };

export interface HotfixFacts {
  target: TargetVerdict;
  /** Absent when no newer line runs anywhere. */
  lines?: LinesVerdict;
}

async function manifestOf(deps: HotfixDeps, service: string, version: string): Promise<BuildManifest | string> {
  const bucket = deps.locations.artifactsBucket;
  const key = manifestKey(service, version);
  const raw = await readJson(deps.store, { bucket, key });
  if (!raw) return `no build manifest at s3://${bucket}/${key}`;
  if (!raw.ok) return `its build manifest s3://${bucket}/${key} is not valid JSON`;
  try {
    return parseManifest(raw.value, `s3://${bucket}/${key}`);
  } catch (err) {
    return (err as Error).message;
  }
}

/** CI's `fixes` for the release's commit when it reported some, else that commit. */
async function fixOf(deps: HotfixDeps, release: ReleaseRequest): Promise<Fix> {
  const own = await manifestOf(deps, release.service, release.version);
  const commit = typeof own === 'string' ? release.commit : own.commit;
  if (!commit) throw new Error(`${release.service} ${release.version}: ${own}, so its commit is unknown`);
  const raw = await readJson(deps.store, { bucket: deps.locations.artifactsBucket, key: testReportKey(release.service, commit) });
  const report = raw?.ok ? parseTestReport(raw.value) : undefined;
  if (report && typeof report !== 'string' && report.fixes?.length) return { commits: report.fixes, source: 'fixes' };
  return { commits: [commit], source: 'commit' };
}

export async function hotfixFacts(release: ReleaseRequest, environment: string, order: readonly string[], deps: HotfixDeps): Promise<HotfixFacts> {
  const running: RunningVersion[] = (await deps.ledger.environments(release.service)).flatMap((s) => [
    ...(s.version ? [{ environment: s.environment, version: s.version }] : []),
    ...(s.canary ? [{ environment: s.environment, version: s.canary.version, canary: true }] : []),
  ]);
  const target = checkTarget({ version: release.version, environment, order, running });
  const newer = newerLines(release.version, running);
  if (target.verdict === 'skip' || newer.length === 0 || configVersionOf(release.version)) return { target };
  const builds = await Promise.all(
    newer.map(async (n): Promise<NewerBuild> => {
      const m = await manifestOf(deps, release.service, n.version);
      if (typeof m === 'string') return { ...n, problem: m };
      return m.commits ? { ...n, commits: m.commits } : n;
    }),
  );
  return { target, lines: checkNewerLines(release.version, await fixOf(deps, release), builds) };
}
