import { compareLines, compareVersions, lineOf } from './version-order.js';

/**
 * Dot releases and hotfixes (pure; check-policy.ts gathers the facts and acts on the verdict).
 * Entering an environment, a release must not take it back, and a release of an older line
 * (`v1.100.1` while `v1.101.0` runs somewhere) must not ship a fix that the newer line lacks
 * without someone knowing: when that newer line reaches prod, the fix would be gone again.
 *
 * The target environment:
 * - runs nothing newer than the release: fine;
 * - runs a newer version of the release's own line (`v1.100.2` there, `v1.100.1` coming): a
 *   regression, refused;
 * - runs a newer line (`v1.101.0` in staging, `v1.100.1` coming): the release passes it by
 *   (`skip`, recorded) when an environment after it still runs something older that the release
 *   is for (prod at `v1.100.0`); otherwise nowhere needs it and it is a regression.
 *
 * Newer lines anywhere in the service (live or canary): the fix is the commits CI reported as
 * `fixes` for the release, or else the release's own commit. Each newer version's build
 * manifest must list all of them in its `commits`; one that lacks a commit, or lists no commits
 * at all, leaves the order unconfirmed, and a person acknowledges it (approval kind
 * `hotfix-order`) before the release goes on.
 */

/** One version taking traffic in one environment (its live version, or its canary). */
export interface RunningVersion {
  environment: string;
  version: string;
  canary?: boolean;
}

export interface TargetFacts {
  version: string;
  environment: string;
  /** The service's environments in their configured order. */
  order: readonly string[];
  running: readonly RunningVersion[];
}

export type TargetVerdict =
  | { verdict: 'ok' }
  | { verdict: 'skip'; reason: string; runs: string; landsIn: string }
  | { verdict: 'regression'; reason: string; runs: string };

const where = (r: RunningVersion) => `${r.environment}${r.canary ? ' (canary)' : ''} runs ${r.version}`;

/** Whether the release may go into the environment being entered, or passes it by. */
export function checkTarget(f: TargetFacts): TargetVerdict {
  const ahead = f.running
    .filter((r) => r.environment === f.environment && compareVersions(r.version, f.version) > 0)
    .sort((a, b) => compareVersions(b.version, a.version))[0];
  if (!ahead) return { verdict: 'ok' };
  const line = lineOf(f.version);
  if (compareLines(ahead.version, f.version) === 0) {
    return {
      verdict: 'regression',
      runs: ahead.version,
      reason: `${where(ahead)}, a later patch of the same line ${line}: ${f.version} would take ${f.environment} back`,
    };
  }
  const later = f.order.slice(f.order.indexOf(f.environment) + 1);
  const target = later.find((env) => {
    const there = f.running.filter((r) => r.environment === env);
    return there.length > 0 && there.every((r) => compareVersions(r.version, f.version) < 0);
  });
  if (target) {
    const runs = f.running.filter((r) => r.environment === target).map((r) => r.version).join(', ');
    return {
      verdict: 'skip',
      runs: ahead.version,
      landsIn: target,
      reason: `${where(ahead)}, a newer line than ${line}: ${f.version} passes ${f.environment} by without deploying (it does not take a newer line back) and goes on to ${target}, which runs ${runs}`,
    };
  }
  const after = later.map((env) => `${env} runs ${f.running.filter((r) => r.environment === env).map((r) => r.version).join(', ') || 'nothing yet'}`);
  return {
    verdict: 'regression',
    runs: ahead.version,
    reason: `${where(ahead)}, newer than ${f.version}, and no later environment runs an older version for it to replace${after.length ? ` (${after.join('; ')})` : ''}: ${f.version} would take ${f.environment} back`,
  };
}

/** The distinct versions of newer lines than `version` taking traffic anywhere, newest first, with where. */
export function newerLines(version: string, running: readonly RunningVersion[]): { version: string; environments: string[] }[] {
  const found = new Map<string, string[]>();
  for (const r of running) {
    if (compareLines(r.version, version) <= 0) continue;
    found.set(r.version, [...(found.get(r.version) ?? []), r.environment + (r.canary ? ' (canary)' : '')]);
  }
  return [...found].map(([v, environments]) => ({ version: v, environments })).sort((a, b) => compareVersions(b.version, a.version));
}

/** What the release fixes: CI's `fixes` when it reported them, else the commit the release was built from. */
export interface Fix {
  commits: string[];
  source: 'fixes' | 'commit';
}

/** A newer version's build as its manifest describes it: `commits` absent when it lists none, `problem` when it could not be read. */
export interface NewerBuild {
  version: string;
  environments: string[];
  commits?: string[];
  problem?: string;
}

export interface LineEvidence {
  version: string;
  environments: string[];
  /** The fix's commits its manifest does not list. */
  lacks?: string[];
  /** Why nobody can tell. */
  unknown?: string;
}

export type LinesVerdict =
  | { verdict: 'confirmed'; reason: string; fix: Fix; lines: LineEvidence[] }
  | { verdict: 'unconfirmed'; reason: string; fix: Fix; lines: LineEvidence[] };

const short = (commit: string) => commit.slice(0, 12);

/** Whether every newer line holds the fix; the reason names which lacks which commit. */
export function checkNewerLines(version: string, fix: Fix, builds: readonly NewerBuild[]): LinesVerdict {
  const what = fix.source === 'fixes' ? `the fix${fix.commits.length > 1 ? 'es' : ''} CI reported for ${version} (${fix.commits.map(short).join(', ')})` : `${version}'s commit ${short(fix.commits[0] ?? '')} (CI reported no fixes for it)`;
  const lines = builds.map((b): LineEvidence => {
    const base = { version: b.version, environments: b.environments };
    if (b.problem) return { ...base, unknown: b.problem };
    if (!b.commits) return { ...base, unknown: 'its build manifest lists no commits' };
    const lacks = fix.commits.filter((c) => !b.commits!.includes(c));
    return lacks.length ? { ...base, lacks } : base;
  });
  const open = lines.filter((l) => l.lacks || l.unknown);
  const at = (l: LineEvidence) => `${l.version} (${l.environments.join(', ')})`;
  if (open.length === 0) {
    return { verdict: 'confirmed', fix, lines, reason: `every newer line holds ${what}: ${lines.map(at).join(', ')}` };
  }
  const said = open.map((l) => (l.lacks ? `${l.version} lacks ${l.lacks.map(short).join(', ')} (${l.environments.join(', ')})` : `cannot tell whether ${at(l)} holds it: ${l.unknown}`));
  return {
    verdict: 'unconfirmed',
    fix,
    lines,
    reason: `${said.join('; ')}. Checked ${what}; when that line reaches prod the fix would be gone again`,
  };
}
