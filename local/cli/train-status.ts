import type { PipelineConfig } from '../../lambdas/lib/config.js';
import type { Ledger } from '../../lambdas/lib/ports.js';
import { trainEnvironments } from '../../lambdas/lib/train-config.js';
import { nothingMatches } from './nothing-matches.js';

/**
 * `tagflow status --train NAME`: every member's version per environment, as the ledger says
 * (a canary in progress shows beside the live version), one line per member.
 */
export async function trainStatus(ledger: Pick<Ledger, 'environments'>, config: PipelineConfig, train: string): Promise<string[]> {
  const t = config.trains?.[train];
  if (!t) throw nothingMatches('--train', train, Object.keys(config.trains ?? {}), 'train', 'in the config');
  const envs = trainEnvironments(t, config.services);
  const width = Math.max(...t.services.map((s) => s.length));
  const lines = [`train ${train}: ${envs.join(' → ')}`];
  for (const service of t.services) {
    const states = new Map((await ledger.environments(service)).map((s) => [s.environment, s]));
    const cells = envs.map((env) => {
      const s = states.get(env);
      const live = s?.version ?? '-';
      const canary = s?.canary ? ` (canary ${s.canary.version} ${s.canary.weight}%)` : '';
      return `${env} ${live}${s?.version && !s.healthy ? ' (unhealthy)' : ''}${canary}`;
    });
    lines.push(`  ${service.padEnd(width)}  ${cells.join('  ')}`);
  }
  return lines;
}

/**
 * The train machine's input for `tagflow local release --train NAME --version V`, checked as
 * the machine's first step checks it (an unknown train exits 2 before anything starts).
 */
export function trainInput(config: PipelineConfig, train: string, version: string): { train: string; version: string } {
  if (!config.trains?.[train]) throw nothingMatches('--train', train, Object.keys(config.trains ?? {}), 'train', 'in the config');
  return { train, version };
}
