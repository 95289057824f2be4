/**
 * The release pipeline's Lambda steps: folder name under lambdas/ and the ASL placeholder
 * that stands for its ARN. The CDK stack and the local runtime both read this list; the
 * ASL files use the placeholders.
 */
export const STEP_NAMES = [
  'normalise',
  'claim',
  'tests-gate',
  'resolve-artifact',
  'verify-provenance',
  'vulnerability-gate',
  'check-policy',
  'request-approval',
  'verify-approval',
  'acquire-lock',
  'migrate',
  'promote',
  'pre-traffic',
  'deploy',
  'start-canary',
  'judge-canary',
  'shift-canary',
  'smoke',
  'record-stage',
  'attest-environment',
  'rollback-stage',
  'release-lock',
  'record-outcome',
  'normalise-rollback',
  'prepare-rollback',
  'rollback',
  'train',
  // Not in a machine: the drift check's schedule (infra/drift.ts) invokes it.
  'detect-drift',
] as const;

export type StepName = (typeof STEP_NAMES)[number];

/** `tests-gate` → `TestsGateFnArn`. */
export const placeholderOf = (step: string): string =>
  `${step
    .split('-')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('')}FnArn`;
