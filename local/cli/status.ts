import type { PipelineConfig } from '../../lambdas/lib/config.js';
import type { Ledger } from '../../lambdas/lib/ports.js';
import { bold, dim, green, red, yellow } from './progress.js';

/** `tagflow status`: each environment's version, previous known-good, and last outcome. */
export async function statusTable(ledger: Ledger, config: PipelineConfig, only?: string): Promise<string[]> {
  const names = only ? [only] : [...new Set([...Object.keys(config.services), ...(await ledger.services())])].sort();
  const lines: string[] = [];
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
      const lock = s?.lockHolder && (s.lockExpiresAt ?? 0) > Date.now() ? yellow(` locked by ${s.lockHolder.split(':').pop()}`) : '';
      lines.push(`  ${env.padEnd(12)} ${(s?.version ?? '-').padEnd(16)} ${health.padEnd(useWidth(health, 10))} ${previous.padEnd(16)} ${s?.lastOutcome ?? '-'}${lock}`);
    }
    const last = releases.at(-1);
    if (last) {
      const outcome = last.outcome ? `${last.outcome.outcome}: ${last.outcome.reason ?? ''}` : 'in progress';
      lines.push(`  last release: ${last.release.version} (${last.release.trigger.kind}, ${last.release.startedAt}) — ${outcome}`);
    } else lines.push(dim('  no releases yet'));
  }
  return lines;
}

// padEnd counts colour codes; pad on the visible width instead.
const useWidth = (s: string, width: number) => width + (s.length - s.replace(/\u001b\[\d+m/g, '').length);
