import type { DoraFigures } from '../../lambdas/lib/dora.js';

/** `tagflow dora`'s line for config-only releases, which the four figures above it leave out (dora.ts). */
export function configReleasesLine(d: Pick<DoraFigures, 'config'>): string {
  const c = d.config;
  const rate = c.changeFailureRate === null ? '' : `, ${Number((100 * c.changeFailureRate).toPrecision(2))}% rolled back (${c.failed} of ${c.deployments})`;
  return `  config releases       ${c.deployments} (same code, new configuration; not counted above${rate})`;
}
