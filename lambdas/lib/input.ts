import * as z from 'zod';
import { InvalidInput } from './errors.js';
import { trainTriggerDetail, type ReleaseRequest } from './types.js';
import { describeIssues } from './validation.js';
import { SERVICE_PATTERN, versionProblem } from './version.js';

/**
 * The manual release input: what a release manager pastes into the Step Functions console
 * or passes to `tagflow local start-execution`.
 */

export const MANUAL_RELEASE_EXAMPLE = '{"service":"checkout","version":"v2.4.0"}';

const serviceName = z
  .string({ error: 'expected a service name string, e.g. "checkout"' })
  .regex(SERVICE_PATTERN, 'expected lower-case letters, digits and dashes, starting with a letter (e.g. "checkout")');

const version = z
  .string({ error: 'expected a version string such as "v2.4.0"' })
  .superRefine((v, ctx) => {
    const problem = versionProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const manualReleaseSchema = z.strictObject({
  service: serviceName,
  version,
  commit: z.string().regex(/^[0-9a-f]{40}$/, 'expected the full 40-character lower-case hex commit SHA').optional(),
  environments: z
    .array(z.string(), { error: 'expected a list of environment names, e.g. ["dev","staging"]' })
    .min(1, 'give at least one environment, or leave the field out for all of them')
    .optional(),
  emergency: z
    .strictObject({ reason: z.string().min(3, 'say why this release cannot wait') })
    .optional(),
  /** Start this version again: allowed when its last attempt failed or was aborted before anything was deployed. */
  retry: z.boolean({ error: 'expected true or false' }).optional(),
  /** Set by the train machine: this execution runs one environment (`environments`, exactly one) of the train's release of the service. */
  train: z
    .strictObject({ name: serviceName, execution: z.string().min(1, 'the train execution ARN') })
    .optional(),
});

export type ManualRelease = z.infer<typeof manualReleaseSchema>;

export function parseManualRelease(input: unknown): ManualRelease {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidInput(
      [{ field: '(input)', problem: `expected a JSON object, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}` }],
      MANUAL_RELEASE_EXAMPLE,
    );
  }
  const result = manualReleaseSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    throw new InvalidInput(describeIssues(result.error, (path) => (path.length === 0 ? Object.keys(manualReleaseSchema.shape) : path[0] === 'emergency' ? ['reason'] : [])), MANUAL_RELEASE_EXAMPLE);
  }
  return result.data;
}

export function manualToRequest(m: ManualRelease): ReleaseRequest {
  return {
    service: m.service,
    version: m.version,
    ...(m.commit ? { commit: m.commit } : {}),
    trigger: m.train ? { kind: 'manual', detail: trainTriggerDetail(m.train) } : { kind: 'manual' },
    ...(m.emergency ? { emergency: m.emergency } : {}),
    ...(m.retry ? { retry: true } : {}),
    ...(m.train ? { train: m.train } : {}),
  };
}
