import type { TargetConfig } from '../../lambdas/lib/config.js';
import type { Serving, ServingReader } from '../../lambdas/lib/drift.js';
import type { LocalFleet } from './fleet.js';

/** What the local fleet serves, for the drift check: its live version and canary (the fleet's handles are the versions). */
export class FleetServing implements ServingReader {
  constructor(private readonly fleet: Pick<LocalFleet, 'version' | 'canary'>) {}

  async serving(service: string, environment: string, target: TargetConfig): Promise<Serving | undefined> {
    if (target.type !== 'local') return undefined;
    const live = this.fleet.version(service, environment);
    const canary = this.fleet.canary(service, environment);
    return { ...(live ? { ref: live } : {}), ...(canary ? { split: { ref: canary.version, weight: canary.weight } } : {}) };
  }
}
