import { GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand, type FunctionConfiguration, type LambdaClient } from '@aws-sdk/client-lambda';
import { describeEnv } from '../lib/config-release.js';
import { DeployFailed } from '../lib/errors.js';
import type { DeployRequest } from '../lib/ports.js';
import { call } from './transient.js';

/**
 * The configuration half of a Lambda deploy (lambda-alias-target.ts). Lambda publishes a version
 * from `$LATEST`, code and environment together, so a version is its build plus the variables
 * `$LATEST` held when it was published. tagflow's model is the same: a version is a build plus the
 * variables its manifest names (a config release's `env`; none for a code build). The names
 * tagflow set are kept in `TAGFLOW_CONFIG_VARS`, so that the next deploy removes exactly those and
 * leaves the variables infra set alone.
 *
 * - A config release (`artifact.config`): `$LATEST` must hold the base build's code. When its
 *   CodeSha256 is the base's zip, the code is not touched (no UpdateFunctionCode); otherwise
 *   (a later build was published there since, e.g. one that was rolled back; or an image
 *   function, whose code is re-pointed at the same digest) the code is put back first from the
 *   promoted copy, checked as any deploy. Then UpdateFunctionConfiguration sets the variables.
 * - A code release whose `$LATEST` still holds a config release's variables removes them after
 *   the code update, so the new build does not run with another version's configuration.
 *
 * Races: each update names the RevisionId it read, and PublishVersion names the code's SHA-256
 * and the revision the last update left, so a change by anyone else in between (a console edit,
 * another deploy) makes Lambda refuse and the deploy fails (DeployFailed) instead of publishing
 * a mix. Updates are serialised by waiting for LastUpdateStatus after each.
 */

export const MANAGED_VARS = 'TAGFLOW_CONFIG_VARS';

/** What the code update left (and the publish must match): its SHA-256 and the revision to name. */
export interface CodeInPlace {
  updated: Pick<FunctionConfiguration, 'CodeSha256'>;
  ready: { revisionId?: string };
}

export interface ConfigurationSteps {
  lambda: LambdaClient;
  fn: string;
  req: DeployRequest;
  /** The base64 SHA-256 the zip build's code has in Lambda; undefined for an image function. */
  zipSha256?: string;
  /** Puts the build's code in `$LATEST` and waits (the target's own code update). */
  updateCode: () => Promise<CodeInPlace & { updated: FunctionConfiguration }>;
  /** Waits for `$LATEST`'s update to finish; its RevisionId then. */
  waitUpdated: () => Promise<{ revisionId?: string }>;
}

const errName = (err: unknown) => (err as { name?: string })?.name;

/** The build's code and its variables in `$LATEST`, ready to publish. */
export async function codeAndConfiguration(s: ConfigurationSteps): Promise<CodeInPlace> {
  const config = s.req.artifact.config;
  if (!config) {
    const code = await s.updateCode();
    const vars = code.updated.Environment?.Variables;
    if (!vars?.[MANAGED_VARS]) return code;
    return { updated: code.updated, ready: await setVariables(s, withoutManaged(vars), code.ready.revisionId, 'remove the variables of an earlier config release') };
  }
  const latest = await call(`Lambda GetFunctionConfiguration ${s.fn}`, () => s.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: s.fn })));
  let code: CodeInPlace;
  if (s.zipSha256 !== undefined && latest.CodeSha256 === s.zipSha256) code = { updated: { CodeSha256: latest.CodeSha256 }, ready: latest.RevisionId ? { revisionId: latest.RevisionId } : {} };
  else code = await s.updateCode();
  const names = Object.keys(config.env).sort();
  const vars = { ...withoutManaged(latest.Environment?.Variables ?? {}), ...config.env, ...(names.length ? { [MANAGED_VARS]: names.join(',') } : {}) };
  return { updated: code.updated, ready: await setVariables(s, vars, code.ready.revisionId, `set ${describeEnv(config.env)} for ${s.req.version} (the code of ${config.base})`) };
}

/** The variables without the ones an earlier config release set (and their list). */
function withoutManaged(vars: Record<string, string>): Record<string, string> {
  const managed = new Set([MANAGED_VARS, ...(vars[MANAGED_VARS] ?? '').split(',').filter(Boolean)]);
  return Object.fromEntries(Object.entries(vars).filter(([name]) => !managed.has(name)));
}

async function setVariables(s: ConfigurationSteps, vars: Record<string, string>, revisionId: string | undefined, what: string): Promise<{ revisionId?: string }> {
  try {
    await call(`Lambda UpdateFunctionConfiguration ${s.fn} (Environment)`, () =>
      s.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: s.fn, Environment: { Variables: vars }, ...(revisionId ? { RevisionId: revisionId } : {}) })),
    );
  } catch (err) {
    if (errName(err) === 'PreconditionFailedException') throw new DeployFailed(`${s.fn} changed while tagflow was deploying ${s.req.version} (another deploy or a manual change?); could not ${what}`);
    if (errName(err) === 'DependencyUnavailable' || err instanceof DeployFailed) throw err;
    throw new DeployFailed(`could not ${what} on ${s.fn}: ${errName(err) ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`);
  }
  return s.waitUpdated();
}
