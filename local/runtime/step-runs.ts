import { run as acquireLock } from '../../lambdas/acquire-lock/handler.js';
import { run as checkPolicy } from '../../lambdas/check-policy/handler.js';
import { run as claim } from '../../lambdas/claim/handler.js';
import { run as deploy } from '../../lambdas/deploy/handler.js';
import { run as judgeCanary } from '../../lambdas/judge-canary/handler.js';
import { run as shiftCanary } from '../../lambdas/shift-canary/handler.js';
import { run as startCanary } from '../../lambdas/start-canary/handler.js';
import { run as normalise } from '../../lambdas/normalise/handler.js';
import { run as normaliseRollback } from '../../lambdas/normalise-rollback/handler.js';
import { run as prepareRollback } from '../../lambdas/prepare-rollback/handler.js';
import { run as rollback } from '../../lambdas/rollback/handler.js';
import { run as migrate } from '../../lambdas/migrate/handler.js';
import { run as promote } from '../../lambdas/promote/handler.js';
import { run as preTraffic } from '../../lambdas/pre-traffic/handler.js';
import { run as recordOutcome } from '../../lambdas/record-outcome/handler.js';
import { run as recordStage } from '../../lambdas/record-stage/handler.js';
import { run as releaseLock } from '../../lambdas/release-lock/handler.js';
import { run as requestApproval } from '../../lambdas/request-approval/handler.js';
import { run as resolveArtifact } from '../../lambdas/resolve-artifact/handler.js';
import { run as verifyProvenance } from '../../lambdas/verify-provenance/handler.js';
import { run as rollbackStage } from '../../lambdas/rollback-stage/handler.js';
import { run as smoke } from '../../lambdas/smoke/handler.js';
import { run as testsGate } from '../../lambdas/tests-gate/handler.js';
import { run as verifyApproval } from '../../lambdas/verify-approval/handler.js';
import { run as train } from '../../lambdas/train/handler.js';
import { run as detectDrift } from '../../lambdas/detect-drift/handler.js';
import { run as vulnerabilityGate } from '../../lambdas/vulnerability-gate/handler.js';
import { run as attestEnvironment } from '../../lambdas/attest-environment/handler.js';
import { localImageScans } from './image-scans.js';
import { FleetServing } from './fleet-serving.js';
import type { LocalFleet } from './fleet.js';
import type { StepFn } from '../../lambdas/lib/step-handler.js';
import type { StepName } from '../../lambdas/steps.js';

/** Each step's core entry, exactly as its Lambda handler runs it (the record keeps every step listed). */
export const STEP_RUNS: Record<StepName, StepFn<never, unknown>> = {
  normalise,
  claim,
  'tests-gate': testsGate,
  'resolve-artifact': resolveArtifact,
  'verify-provenance': verifyProvenance,
  // Locally an image's scan is the one recorded in the local store (image-scans.ts), not ECR's.
  'vulnerability-gate': ((input, deps) => vulnerabilityGate(input, { ...deps, imageScans: localImageScans(deps.store, deps.locations.artifactsBucket) })) as StepFn<never, unknown>,
  'check-policy': checkPolicy,
  'request-approval': requestApproval,
  'verify-approval': verifyApproval,
  'acquire-lock': acquireLock,
  migrate,
  promote,
  'pre-traffic': preTraffic,
  deploy,
  'start-canary': startCanary,
  'judge-canary': judgeCanary,
  'shift-canary': shiftCanary,
  smoke,
  'record-stage': recordStage,
  'attest-environment': attestEnvironment,
  'rollback-stage': rollbackStage,
  'release-lock': releaseLock,
  'record-outcome': recordOutcome,
  'normalise-rollback': normaliseRollback,
  'prepare-rollback': prepareRollback,
  rollback,
  train,
  // Locally what serves is the fleet, which is also the runtime's target for every "local" target.
  'detect-drift': ((input, deps) =>
    detectDrift(input, { ...deps, serving: (target) => (target.type === 'local' ? new FleetServing(deps.targets(target) as unknown as LocalFleet) : { serving: async () => undefined }) })) as StepFn<never, unknown>,
};
