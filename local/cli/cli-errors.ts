/**
 * How the CLI ends: 0 done, 1 an execution failed (or its duplicate names an attempt that did
 * not succeed), 2 the command refused what it was given (a flag, a file, the config, the data
 * folder in use, a stack that cannot be read). What was refused is said in one line naming the
 * flag or field, never followed by the whole usage text.
 */

/** A command refused its input: one line naming the flag or file and the expected form; exit 2. */
export class CliInputError extends Error {
  readonly exitCode = 2;
  override name = 'CliInputError';
}

/** `status --service S` or `history --version V` named nothing the config or the ledger knows. */
export class NothingMatches extends CliInputError {
  override name = 'NothingMatches';
}

/**
 * Errors of the user's input thrown elsewhere, by name (importing them would load the runtime,
 * the SDK or zod for every command): the config, another process owning the data folder, a
 * stack that cannot be read (its name, credentials, region), the plan and freeze commands'
 * own input errors.
 */
const INPUT_ERRORS = new Set(['ConfigError', 'DataDirBusy', 'StackProblem', 'PlanInputError', 'FreezeInputError']);

/** The exit code for an error that ended a command. */
export function exitCodeOf(err: unknown): 1 | 2 {
  if (err instanceof CliInputError) return 2;
  if (err instanceof Error && INPUT_ERRORS.has(err.name)) return 2;
  if (isArgsError(err)) return 2;
  return 1;
}

/** node:util parseArgs' own errors (an unknown flag, a missing value). */
export const isArgsError = (err: unknown): boolean => typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS');

/** What the CLI prints for an error that ended a command, and its exit code: always one line. */
export function errorReport(err: unknown): { code: 1 | 2; text: string } {
  const message = err instanceof Error ? err.message : String(err);
  return { code: exitCodeOf(err), text: `error: ${message}` };
}

/** The parts of an execution's summary its exit code depends on. */
export interface FinishedExecution {
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  error?: string;
  output?: unknown;
}

/** What "Claim release" says of a duplicate (lambdas/lib/steps/claim.ts). */
interface DuplicateClaim {
  claimed: false;
  reason: string;
  earlier: { outcome?: string };
}

/** The earlier attempt a release that ended at "Duplicate ignored" names, if it did. */
export function duplicateOf(s: FinishedExecution): DuplicateClaim | undefined {
  const claim = (s.output as { claim?: { claimed?: boolean } } | null | undefined)?.claim;
  return s.status === 'SUCCEEDED' && claim?.claimed === false ? (claim as DuplicateClaim) : undefined;
}

/**
 * An execution's exit code, for `local release`, `start-execution`, `send-event` and
 * `rollback` alike: 0 succeeded; 1 failed, or a duplicate of an attempt that did not succeed;
 * 2 its input was refused (`InvalidInput`: a field named, nothing deployed).
 */
export function executionExitCode(s: FinishedExecution): 0 | 1 | 2 {
  if (s.status === 'SUCCEEDED') {
    const duplicate = duplicateOf(s);
    return duplicate && duplicate.earlier.outcome !== 'succeeded' ? 1 : 0;
  }
  return s.error === 'InvalidInput' ? 2 : 1;
}
