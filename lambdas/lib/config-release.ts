import type { FieldIssue } from './errors.js';
import type { BuildManifest } from './types.js';
import { configVersionOf } from './version.js';

/**
 * Config-only releases ("same code, new configuration"), the rules both CI's publishing and the
 * release's Resolve artifact step hold a config manifest to. A config version
 * (`v1.4.0-config.1`, version.ts) has its own manifest in the build store: `kind: "config"`,
 * `base` (the build whose code it ships), `env` (the variables it runs with), and the base's
 * files copied beside it with their SHA-256 unchanged, so that promotion, rollback and every
 * target read one version's files from one place.
 */

/** A variable name both Lambda and a shell accept. */
const ENV_NAME = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;
/** Lambda refuses to set its own reserved variables (and TAGFLOW_ names tagflow keeps for itself, lambda-config.ts); refusing them here fails before any environment. */
const RESERVED = /^(AWS_|LAMBDA_|TAGFLOW_|_HANDLER$|_X_AMZN_TRACE_ID$|TZ$)/;
/** Lambda's limit for all of a function's variables together (names and values). */
export const MAX_ENV_BYTES = 4096;

export const CONFIG_MANIFEST_EXAMPLE = '{"kind":"config","base":"v1.4.0","env":{"GREETING":"hi"},…}';

/** What is wrong with a set of variables, field by field (`env.NAME`). */
export function envIssues(env: Record<string, unknown>, field = 'env'): FieldIssue[] {
  const issues: FieldIssue[] = [];
  let bytes = 0;
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) issues.push({ field: `${field}.${name}`, problem: 'a variable name is a letter then letters, digits or "_" (at most 128)' });
    else if (RESERVED.test(name)) issues.push({ field: `${field}.${name}`, problem: name.startsWith('TAGFLOW_') ? 'is reserved by tagflow (it lists the variables a config release set); choose another name' : 'is reserved by the Lambda runtime; choose another name' });
    if (typeof value !== 'string') issues.push({ field: `${field}.${name}`, problem: `expected a string value, got ${value === null ? 'null' : typeof value}; quote numbers and booleans` });
    else bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  if (bytes > MAX_ENV_BYTES) issues.push({ field, problem: `the variables take ${bytes} bytes; Lambda allows ${MAX_ENV_BYTES} in all` });
  return issues;
}

/** Whether a manifest's kind agrees with its version's shape: a config version has a config manifest, and only it. */
export function kindIssues(m: Pick<BuildManifest, 'version' | 'kind' | 'base' | 'env'>): FieldIssue[] {
  const shape = configVersionOf(m.version);
  if (!shape) {
    return m.kind === 'config' || m.base !== undefined || m.env !== undefined
      ? [{ field: 'kind', problem: `${m.version} is not a config version (vX.Y.Z-config.N), so its manifest may not have kind, base or env` }]
      : [];
  }
  const issues: FieldIssue[] = [];
  if (m.kind !== 'config') issues.push({ field: 'kind', problem: `${m.version} is a config version: its manifest needs "kind": "config"` });
  if (m.base !== shape.base) issues.push({ field: 'base', problem: `${m.version} is a config revision of ${shape.base}, so "base" must be "${shape.base}", got ${JSON.stringify(m.base ?? null)}` });
  if (m.env === undefined) issues.push({ field: 'env', problem: 'a config release names the variables it sets ({} for none)' });
  return issues;
}

/**
 * Why a config manifest does not ship exactly its base build's code: the same commit, entry and
 * image, and every file of the base with the same size and SHA-256. Extra files (a config file)
 * may be added; none may replace a file of the base.
 */
export function sameCodeProblems(config: BuildManifest, base: BuildManifest): string[] {
  const problems: string[] = [];
  if (base.kind === 'config') problems.push(`its base ${base.version} is itself a config release; name the code build it is based on`);
  if (config.service !== base.service) problems.push(`its base describes ${base.service}, not ${config.service}`);
  if (config.commit !== base.commit) problems.push(`it names commit ${config.commit.slice(0, 12)} but the base ${base.version} was built from ${base.commit.slice(0, 12)}`);
  if (config.entry !== base.entry) problems.push(`its entry ${config.entry ?? '(none)'} is not the base's ${base.entry ?? '(none)'}`);
  if (config.imageDigest !== base.imageDigest) problems.push(`its image ${config.imageDigest ?? '(none)'} is not the base's ${base.imageDigest ?? '(none)'}`);
  const files = new Map(config.files.map((f) => [f.path, f]));
  for (const f of base.files) {
    const mine = files.get(f.path);
    if (!mine) problems.push(`it lacks ${f.path} of the base build`);
    else if (mine.sha256 !== f.sha256 || mine.size !== f.size) problems.push(`its ${f.path} (SHA-256 ${mine.sha256.slice(0, 12)}…) differs from the base's (${f.sha256.slice(0, 12)}…): a config release ships the base's code unchanged`);
  }
  return problems;
}

/** "GREETING, LOG_LEVEL" or "no variables": what a config release sets, for summaries. */
export const describeEnv = (env: Record<string, string>): string => (Object.keys(env).length ? `variables ${Object.keys(env).sort().join(', ')}` : 'no variables');

/** `--config-only` (or a person's check) on a version: why it is not a config version, with what to type instead. */
export function configOnlyProblem(version: string): string | undefined {
  if (configVersionOf(version)) return undefined;
  return `${JSON.stringify(version)} is not a config version: a config-only release is named after the build it ships plus a config revision, e.g. ${/^v\d+\.\d+\.\d+$/.test(version) ? `${version}-config.1` : 'v1.4.0-config.1'} (publish it first with its variables)`;
}
