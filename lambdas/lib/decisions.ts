import type { Deps } from './ports.js';
import type { Decision, EnvironmentState, ReleaseRequest } from './types.js';
import { releaseIdOf } from './types.js';

/** Writes one decision with its evidence to the ledger. */
export async function decide(
  deps: Pick<Deps, 'ledger' | 'clock'>,
  release: Pick<ReleaseRequest, 'service' | 'version'>,
  d: Omit<Decision, 'releaseId' | 'service' | 'version' | 'at'>,
): Promise<Decision> {
  const decision: Decision = {
    releaseId: releaseIdOf(release.service, release.version),
    service: release.service,
    version: release.version,
    at: deps.clock.now().toISOString(),
    ...d,
  };
  await deps.ledger.recordDecision(decision);
  return decision;
}

/** The environments where the release was recorded known-good ("Record environment" passed), in the order it reached them. */
export const environmentsReached = (decisions: Decision[]): string[] => [...new Set(decisions.filter((d) => d.step === 'record-stage' && d.verdict === 'passed').map((d) => d.environment!))];

export const emptyEnvironment = (service: string, environment: string): EnvironmentState => ({
  service,
  environment,
  healthy: false,
  goodVersions: [],
  refs: {},
  revision: 0,
});

export const MAX_GOOD_VERSIONS = 10;

/** Known-good versions with `version` first, bounded. */
export const withGood = (good: string[], version: string) => [version, ...good.filter((v) => v !== version)].slice(0, MAX_GOOD_VERSIONS);
