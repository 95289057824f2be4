import { approvalTimeoutSeconds } from '../approval-timeout.js';
import type { EnvironmentConfig } from '../config.js';
import { decide } from '../decisions.js';
import { errorMessage, TagflowError } from '../errors.js';
import { migrationName, type Migration, type MigrationPhase } from '../migrations-config.js';
import type { Deps } from '../ports.js';
import { fillNames } from '../targets.js';
import type { IrreversibleMark, ReleaseRequest, ResolvedArtifact } from '../types.js';

/** A migration function failed, or answered with an error: the release stops there. */
export class MigrationFailed extends TagflowError {
  override readonly name = 'MigrationFailed';
}

export interface MigrateInput {
  releaseId: string;
  executionId: string;
  release: ReleaseRequest;
  environment: Pick<EnvironmentConfig, 'name' | 'migrations'>;
  artifact: Pick<ResolvedArtifact, 'schema'>;
  phase: MigrationPhase;
  /** Who decides a hold after the migration, and for how long it waits (the release's snapshot of the policy). */
  approvals: { approvers: string[]; approvalTimeoutHours: number } | null;
}

/**
 * What the machine carries after the migrations of a phase ran (`$.stage.migration`):
 * `irreversible` routes a later failure in this environment to a hold for a person instead of
 * a rollback, and `hold` shapes that hold's wait.
 */
export interface MigrationOutcome {
  phase: MigrationPhase;
  ran: string[];
  irreversible: boolean;
  schema?: number;
  hold?: { approvalTimeoutSeconds: number; timeoutReason: string; reason: string };
}

/** The payload each migration function receives. */
export interface MigrationPayload {
  service: string;
  version: string;
  environment: string;
  phase: MigrationPhase;
  /** The migration's name in the config (default: its phase and function), so one function can serve several. */
  migration: string;
  schema: number | null;
  releaseId: string;
}

export type MigrateDeps = Pick<Deps, 'ledger' | 'clock'> & Partial<Pick<Deps, 'invoker'>>;

/**
 * Runs the environment's migrations of one phase in order, under the environment's lock.
 * The first that ran moves the environment past its point of no return: the ledger records
 * `irreversibleAfter` (release, migrations, schema) before anything else can fail. A failing
 * migration stops the release; those before it still count as ran.
 */
export async function migrate(input: MigrateInput, deps: MigrateDeps): Promise<MigrationOutcome> {
  const { release } = input;
  const env = input.environment.name;
  const migrations = (input.environment.migrations ?? []).filter((m) => m.phase === input.phase);
  if (migrations.length === 0) return { phase: input.phase, ran: [], irreversible: false };
  const invoker = deps.invoker;
  if (!invoker) throw new MigrationFailed(`${env} of ${release.service} has ${input.phase} migrations, but this runtime has no Lambda invoker to run them`);

  const ran: string[] = [];
  for (const m of migrations) {
    const failure = await runOne(m, input, invoker);
    if (failure) {
      if (ran.length) await markIrreversible(input, ran, deps);
      const summary = `${input.phase} migration "${migrationName(m)}" failed in ${env}: ${failure}${ran.length ? `; ${ran.join(', ')} ran before it, so ${env} is past its point of no return` : '; nothing was deployed'}`;
      await decide(deps, release, { step: 'migrate', environment: env, verdict: 'failed', summary, evidence: { phase: input.phase, migration: migrationName(m), function: fillNames(m.function, { service: release.service, environment: env }), ran } });
      throw new MigrationFailed(summary);
    }
    ran.push(migrationName(m));
  }
  await markIrreversible(input, ran, deps);
  const schema = input.artifact.schema;
  const schemaText = schema === undefined ? 'the build declares no schema' : `schema ${schema}`;
  await decide(deps, release, {
    step: 'migrate',
    environment: env,
    verdict: 'passed',
    summary: `${input.phase} migrations ran in ${env}: ${ran.join(', ')} (${schemaText}); a later failure here holds for a person instead of rolling back`,
    evidence: { phase: input.phase, ran, ...(schema === undefined ? {} : { schema }) },
  });
  const hours = input.approvals?.approvalTimeoutHours ?? 24;
  const reason = `${input.phase} migration${ran.length > 1 ? 's' : ''} ${ran.join(', ')} ran in ${env} for ${release.version} (${schemaText})`;
  return {
    phase: input.phase,
    ran,
    irreversible: true,
    ...(schema === undefined ? {} : { schema }),
    hold: {
      approvalTimeoutSeconds: approvalTimeoutSeconds(hours),
      reason,
      timeoutReason: `nobody decided within ${hours} h (policy.approvalTimeoutHours) after ${release.version} failed in ${env} past its migration (${ran.join(', ')}); nothing was rolled back blindly: ${env} keeps what serves`,
    },
  };
}

async function runOne(m: Migration, input: MigrateInput, invoker: NonNullable<MigrateDeps['invoker']>): Promise<string | undefined> {
  const { release } = input;
  const functionName = fillNames(m.function, { service: release.service, environment: input.environment.name });
  const payload: MigrationPayload = { service: release.service, version: release.version, environment: input.environment.name, phase: input.phase, migration: migrationName(m), schema: input.artifact.schema ?? null, releaseId: input.releaseId };
  try {
    const res = await invoker.invoke({ functionName, qualifier: '$LATEST', payload, timeoutMs: m.timeoutSeconds * 1000 });
    if (res.functionError) return `${functionName} answered ${res.functionError}: ${functionErrorText(res.payload)}`;
    return undefined;
  } catch (err) {
    return `${functionName} could not be invoked: ${errorMessage(err)}`;
  }
}

/** A Lambda function error's payload is {errorType, errorMessage, …}: say those, not the JSON. */
function functionErrorText(payload: unknown): string {
  const p = payload as { errorType?: unknown; errorMessage?: unknown } | null;
  if (p && typeof p.errorMessage === 'string') return `${typeof p.errorType === 'string' ? `${p.errorType}: ` : ''}${p.errorMessage.slice(0, 500)}`;
  return JSON.stringify(payload)?.slice(0, 300) ?? 'no payload';
}

async function markIrreversible(input: MigrateInput, ran: string[], deps: MigrateDeps): Promise<void> {
  const { release } = input;
  const state = await deps.ledger.getEnvironment(release.service, input.environment.name);
  const mark: IrreversibleMark = {
    version: release.version,
    releaseId: input.releaseId,
    phase: input.phase,
    migrations: ran,
    ...(input.artifact.schema === undefined ? {} : { schema: input.artifact.schema }),
    at: deps.clock.now().toISOString(),
  };
  await deps.ledger.putEnvironment(
    { service: release.service, environment: input.environment.name, healthy: false, goodVersions: [], refs: {}, revision: 0, ...state, irreversibleAfter: mark },
    input.executionId,
  );
}
