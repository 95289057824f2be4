import type { ObjectStore } from '../../lambdas/lib/ports.js';
import type { MessageSigner } from '../../lambdas/lib/supply-chain/dsse.js';
import { configOnlyProblem, envIssues } from '../../lambdas/lib/config-release.js';
import { parseEnvAssignments, publishConfig, type PublishConfig } from '../runtime/ci.js';
import { CliInputError } from './cli-errors.js';
import { readJsonFile } from './input-files.js';

/**
 * `tagflow local publish-config --service S --version vX.Y.Z-config.N [--env NAME=VALUE …]
 * [--file vars.json]`: what CI does for a config-only release (README "Config-only releases").
 * Every flag is checked before anything is uploaded; a wrong one is one line naming it (exit 2).
 */

export interface PublishConfigFlags {
  service?: string | undefined;
  version?: string | undefined;
  /** `NAME=VALUE`, repeatable. */
  env?: string[] | undefined;
  /** A JSON object of variables, e.g. {"GREETING":"hi"}; `--env` adds to it (a name in both is refused). */
  file?: string | undefined;
}

/** The publish-config request the flags describe, or a CliInputError naming the flag. */
export function configFromFlags(flags: PublishConfigFlags): PublishConfig {
  if (!flags.service) throw new CliInputError('--service is required, e.g. --service checkout');
  if (!flags.version) throw new CliInputError('--version is required, e.g. --version v1.4.0-config.1');
  const problem = configOnlyProblem(flags.version);
  if (problem) throw new CliInputError(`--version ${problem}`);
  let fromFile: Record<string, string> = {};
  if (flags.file !== undefined) {
    const json = readJsonFile(flags.file, '--file');
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new CliInputError(`--file ${flags.file}: expected a JSON object of variables, e.g. {"GREETING":"hi"}`);
    const issues = envIssues(json as Record<string, unknown>);
    if (issues.length) throw new CliInputError(`--file ${flags.file}: ${issues.map((i) => `${i.field === 'env' ? 'its variables' : i.field.slice('env.'.length)}: ${i.problem}`).join('; ')}`);
    fromFile = json as Record<string, string>;
  }
  let fromFlags: Record<string, string>;
  try {
    fromFlags = parseEnvAssignments(flags.env ?? []);
  } catch (err) {
    throw new CliInputError((err as Error).message);
  }
  const both = Object.keys(fromFlags).filter((name) => name in fromFile);
  if (both.length) throw new CliInputError(`--env ${both.join(', ')} is also in --file ${flags.file}; give each variable once`);
  return { service: flags.service, version: flags.version, env: { ...fromFile, ...fromFlags } };
}

/** Publishes it and says what was published, for the CLI to print. */
export async function publishConfigCommand(flags: PublishConfigFlags, b: { store: ObjectStore; artifactsBucket: string }, signer?: MessageSigner): Promise<string> {
  const request = { ...configFromFlags(flags), ...(signer ? { signer } : {}) };
  let m;
  try {
    m = await publishConfig(b.store, b.artifactsBucket, request);
  } catch (err) {
    // publishConfig refuses before uploading anything: what the person gave is wrong (exit 2).
    if (err instanceof Error && /nothing uploaded/.test(err.message)) throw new CliInputError(err.message);
    throw err;
  }
  const names = Object.keys(m.env ?? {}).sort();
  return `published ${m.service} ${m.version}: the code of ${m.base} (${m.files.length} files, commit ${m.commit.slice(0, 12)}) with ${names.length ? names.join(', ') : 'no variables'} (s3://${b.artifactsBucket})`;
}
