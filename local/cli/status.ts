import type { PipelineConfig } from '../../lambdas/lib/config.js';
import type { Executions, Ledger } from '../../lambdas/lib/ports.js';
import type { DriftMark, EnvironmentState, IrreversibleMark } from '../../lambdas/lib/types.js';
import { describeFreeze, inForce } from './freeze.js';
import { nothingMatches } from './nothing-matches.js';
import { bold, dim, green, red, yellow } from './progress.js';
import { standingOf } from './release-standing.js';

export interface StatusOptions {
  /** Tells whether a lock's holder still runs; without it the holder's liveness is not shown. */
  executions?: Executions | undefined;
  /** What "expired" is measured against. @default now */
  now?: Date;
}

const shortName = (arn: string) => arn.split(':').pop() ?? arn;

/** The lock, as a person needs it: who holds it, until when, and whether that holder still runs. */
async function lockLine(s: EnvironmentState, opts: StatusOptions): Promise<string | undefined> {
  if (!s.lockHolder) return undefined;
  const now = (opts.now ?? new Date()).getTime();
  const expires = s.lockExpiresAt ?? 0;
  const until = `${expires > now ? 'until' : 'expired at'} ${new Date(expires).toISOString()}`;
  const status = await opts.executions?.status(s.lockHolder);
  const alive = status === undefined ? 'holder liveness unknown' : status === 'RUNNING' ? 'holder running' : `holder not running (${status}): the next command or release reconciles it`;
  const text = `locked by ${shortName(s.lockHolder)} ${until}, ${alive}`;
  return status === undefined || status === 'RUNNING' ? yellow(text) : red(text);
}

/** A drift the check marked: red while it blocks releases, dim once a person acknowledged it. */
function driftLine(d: DriftMark): string {
  const text = `drifted since ${d.detectedAt}: the ledger has ${d.expected}; it serves ${d.actual}`;
  if (!d.acknowledged) return red(`${text} (releases here are refused until acknowledged: tagflow drift --acknowledge)`);
  return dim(`${text} (acknowledged by ${d.acknowledged.by} at ${d.acknowledged.at}: ${d.acknowledged.reason})`);
}

/** The environment's point of no return: the last migration that ran there (rollbacks must declare schemaCompat with it). */
function irreversibleLine(m: IrreversibleMark): string {
  return `past a migration: ${m.phase} ${m.migrations.join(', ')} of ${m.version} at ${m.at}${m.schema === undefined ? ' (no schema declared)' : `, schema ${m.schema}`}; rollbacks only to builds declaring schemaCompat with it`;
}

/**
 * `tagflow status`: each environment's version, previous known-good and last outcome; a canary
 * in progress (its version and weight beside the live one); a drift the check marked; the lock's holder, its expiry and
 * whether the holder is alive. First, the freezes in force that `tagflow freeze` declared (the
 * config's own `policy.freezes` are in the config file).
 */
export async function statusTable(ledger: Ledger, config: PipelineConfig, only?: string, opts: StatusOptions = {}): Promise<string[]> {
  const known = [...new Set([...Object.keys(config.services), ...(await ledger.services())])].sort();
  // A mistyped --service is said, with the name meant, not shown as a service with nothing in it.
  if (only !== undefined && !known.includes(only)) throw nothingMatches('--service', only, known, 'service', 'in the config and the ledger');
  const names = only ? [only] : known;
  const lines: string[] = [];
  const now = opts.now ?? new Date();
  const frozen = (await ledger.freezes()).filter((f) => inForce(f, now) && (!only || f.service === undefined || f.service === only));
  for (const f of frozen) lines.push(red(`❄ ${describeFreeze(f)}`));
  for (const service of names) {
    const states = new Map((await ledger.environments(service)).map((s) => [s.environment, s]));
    const releases = await ledger.releases(service);
    const order = config.services[service]?.environments.map((e) => e.name) ?? [...states.keys()];
    lines.push(bold(service));
    lines.push(dim(`  ${'ENVIRONMENT'.padEnd(12)} ${'VERSION'.padEnd(16)} ${'HEALTH'.padEnd(10)} ${'PREVIOUS GOOD'.padEnd(16)} LAST`));
    for (const env of order) {
      const s = states.get(env);
      const previous = s?.goodVersions.find((v) => v !== s.version) ?? '-';
      const health = !s?.version ? dim('-') : s.healthy ? green('healthy') : red('unhealthy');
      lines.push(`  ${env.padEnd(12)} ${(s?.version ?? '-').padEnd(16)} ${health.padEnd(useWidth(health, 10))} ${previous.padEnd(16)} ${s?.lastOutcome ?? '-'}`);
      if (s?.canary) lines.push(yellow(`    canary ${s.canary.version} at ${s.canary.weight}% (step ${s.canary.stepIndex + 1}, since ${s.canary.stepStartedAt}); ${s.version ?? '-'} takes the rest`));
      if (s?.irreversibleAfter) lines.push(dim(`    ${irreversibleLine(s.irreversibleAfter)}`));
      const drift = s?.drift ? driftLine(s.drift) : undefined;
      if (drift) lines.push(`    ${drift}`);
      const lock = s ? await lockLine(s, opts) : undefined;
      if (lock) lines.push(`    ${lock}`);
    }
    const last = releases.at(-1);
    if (last) {
      const current = last.outcome && last.outcome.executionId === last.release.executionId ? last.outcome : undefined;
      const standing = standingOf(current, current ? await ledger.decisions(service, last.release.version) : []);
      const outcome = current ? `${standing.word}: ${standing.reason}` : 'in progress';
      const attempt = (last.release.attempt ?? 1) > 1 ? `, attempt ${last.release.attempt}` : '';
      lines.push(`  last release: ${last.release.version} (${last.release.trigger.kind}${attempt}, ${last.release.startedAt}) — ${outcome}`);
    } else lines.push(dim('  no releases yet'));
  }
  return lines;
}

// padEnd counts colour codes; pad on the visible width instead.
const useWidth = (s: string, width: number) => width + (s.length - s.replace(/\u001b\[\d+m/g, '').length);
