import * as z from 'zod';
import type { FieldIssue } from './errors.js';

/**
 * Schema migrations apart from code (issue 16): an environment may run functions before its
 * deploy (`expand`, after the lock) and after the new version is known-good there (`contract`).
 * Once one ran, the environment is past a point of no return: a later failure there holds for
 * a person instead of rolling the code back blindly, and the rollback machine refuses versions
 * whose manifest does not declare `schemaCompat` with the schema now in place.
 */
export const migrationSchema = z.strictObject({
  type: z.literal('invoke', { error: 'the only migration type is "invoke": a Lambda function the pipeline invokes' }),
  /** The function's name or ARN; `{service}`, `{environment}` are filled in, as for smoke checks. */
  function: z.string().min(1, 'name the Lambda function that migrates, e.g. "checkout-migrate-{environment}"'),
  phase: z.enum(['expand', 'contract'], { error: 'expected "expand" (before the deploy) or "contract" (after the environment is known-good)' }),
  /** What people read in holds and history; default: the function and phase. */
  name: z.string().min(1).optional(),
  timeoutSeconds: z.number().int().min(1).max(900).default(300),
});

/** One migration or a list of them, run in order within each phase (one is read as a list of one: its errors name `migrations[0]`). */
export const migrationsSchema = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? [v] : v),
  z.array(migrationSchema).min(1, 'list at least one migration, or leave "migrations" out'),
);

export type Migration = z.infer<typeof migrationSchema>;
export type MigrationPhase = Migration['phase'];
export const MIGRATION_KEYS = Object.keys(migrationSchema.shape);

export const migrationName = (m: Pick<Migration, 'name' | 'function' | 'phase'>): string => m.name ?? `${m.phase} ${m.function}`;

/** A failure after a migration holds for one of `policy.approvers`: there must be someone to ask. */
export function migrationIssues(services: Record<string, { environments: { migrations?: Migration[] | undefined }[] }>, hasApprovers: boolean): FieldIssue[] {
  if (hasApprovers) return [];
  return Object.entries(services).flatMap(([name, svc]) =>
    svc.environments.flatMap((env, i): FieldIssue[] =>
      env.migrations?.length
        ? [{ field: `services.${name}.environments[${i}].migrations`, problem: 'after a migration ran, a failure holds for one of policy.approvers to decide rollback or keep, and policy.approvers lists nobody; add approvers to policy.approvers' }]
        : [],
    ),
  );
}
