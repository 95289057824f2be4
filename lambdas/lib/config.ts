// A namespace import lets esbuild drop what is unused (the named `z` object keeps all of zod: 443 KB vs 88 KB).
import * as z from 'zod';
import { APPROVAL_KEYS, approvalIssues, environmentApprovalSchema } from './approval-config.js';
import { ConfigError, type FieldIssue } from './errors.js';
import { environmentNameIssues, policyIssues, policySchema, POLICY_KEYS } from './policy-config.js';
import { MIGRATION_KEYS, migrationIssues, migrationsSchema } from './migrations-config.js';
import { preTrafficIssues } from './pre-traffic-config.js';
import { ALLOW_KEYS, MAX_SEVERITY_KEYS, SUPPLY_CHAIN_KEYS, supplyChainIssues, supplyChainSchema, withSupplyChainDefaults } from './supply-chain/config.js';
import { TRAIN_KEYS, trainIssues, trainsSchema } from './train-config.js';
import { describeIssues } from './validation.js';
import { ENVIRONMENT_PATTERN, SERVICE_PATTERN } from './version.js';

/**
 * The pipeline config: one typed file (`tagflow.config.json`). Every release carries a
 * snapshot of its service's part of it through the state machine and into the ledger.
 */

const httpCheck = z.strictObject({
  name: z.string().min(1),
  type: z.literal('http').default('http'),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
  /** Absolute URL, or a path joined to the environment's endpoint. */
  url: z.string().optional(),
  path: z.string().startsWith('/').optional(),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  expectStatus: z.number().int().min(100).max(599).default(200),
  bodyContains: z.string().optional(),
  /** A JSONPath such as `$.status` or `$.items[0].id` in the response body, compared with `equals`. */
  jsonPath: z.string().startsWith('$').optional(),
  equals: z.unknown().optional(),
  maxLatencyMs: z.number().int().positive().default(3000),
  retries: z.number().int().min(0).max(10).default(2),
  retryDelayMs: z.number().int().min(0).max(60_000).default(1000),
}).refine((c) => (c.url === undefined) !== (c.path === undefined), {
  message: 'give exactly one of "url" (absolute) or "path" (joined to the environment endpoint)',
});

const invokeCheck = z.strictObject({
  name: z.string().min(1),
  type: z.literal('invoke'),
  payload: z.unknown().default({}),
  jsonPath: z.string().startsWith('$').optional(),
  equals: z.unknown().optional(),
  maxLatencyMs: z.number().int().positive().default(10_000),
  retries: z.number().int().min(0).max(10).default(1),
  retryDelayMs: z.number().int().min(0).max(60_000).default(1000),
});

const smokeCheck = z.union([invokeCheck, httpCheck]);

const localTarget = z.strictObject({ type: z.literal('local') });
const lambdaAliasTarget = z.strictObject({
  type: z.literal('lambda-alias'),
  /** Function name or ARN; `{service}` and `{environment}` are filled in. */
  functionName: z.string().min(1),
  alias: z.string().min(1).default('live'),
  /** Path of the deployment zip inside the build (zip functions). */
  artifact: z.string().min(1).default('function.zip'),
  /**
   * For a function packaged as a container image: its ECR repository URI
   * (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`, `{service}` and `{environment}` filled in).
   * Each release then deploys its build's image digest from there instead of a zip.
   */
  imageRepository: z
    .string()
    .regex(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[a-z0-9{}][a-z0-9._/{}-]*$/, 'an ECR repository URI such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/{service}, without a tag or digest')
    .optional(),
});
const target = z.discriminatedUnion('type', [localTarget, lambdaAliasTarget]);

/** Names the judge gives its built-in metrics; a custom metric may not take one. */
const BUILT_IN_METRICS = ['errors', 'latency', 'latency-shift'];

/**
 * A count the service publishes itself (failed checkouts, rejected payments), judged exactly
 * like errors: its events per request on the canary against the baseline's. In AWS it is read
 * from CloudWatch per arm, so the service must publish it with a dimension naming the Lambda
 * version that served (e.g. with the embedded metric format, `ExecutedVersion` =
 * `AWS_LAMBDA_FUNCTION_VERSION`); locally a version counts it with `env.count(name)`.
 */
const customMetric = z.strictObject({
  /** How the judge, the ledger and `env.count` name it. */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, 'lower-case letters, digits and dashes, starting with a letter, at most 40')
    .refine((n) => !BUILT_IN_METRICS.includes(n), { message: `${BUILT_IN_METRICS.join(', ')} are the judge's own metrics; give the custom one another name` }),
  namespace: z.string().min(1),
  metricName: z.string().min(1),
  /** Further dimensions of the metric; `{service}` and `{environment}` in values are filled in. */
  dimensions: z.record(z.string().min(1), z.string().min(1)).default({}),
  /** The dimension whose value is the Lambda version that served the request. */
  versionDimension: z.string().min(1).default('ExecutedVersion'),
});

/** The most looks one canary step may take: maxBakeSeconds (or bakeCapSeconds) / pollSeconds. */
export const MAX_LOOKS_PER_STEP = 1440;

const canary = z
  .strictObject({
    /** Percent of traffic on the new version at each step; the last is 100. */
    steps: z
      .array(z.number().int().min(1).max(100))
      .min(1)
      .default([10, 50, 100])
      .refine((s) => s.every((w, i) => i === 0 || w > s[i - 1]!) && s.at(-1) === 100, 'steps must increase and end at 100, e.g. [10, 50, 100]'),
    /** How often the judge looks during a step (the Wait between looks). */
    pollSeconds: z.number().int().min(5).max(3600).default(60),
    /**
     * The most a step may bake waiting for a verdict; then `onInconclusive` applies. Absent: the
     * step bakes as long as its traffic needs for a healthy canary to pass in 95% of releases
     * (about 30 canary errors; `lambdas/lib/judge/plan.ts`), read at the step's first look and
     * capped by `bakeCapSeconds`.
     */
    maxBakeSeconds: z.number().int().min(10).max(86_400).optional(),
    /** The longest bake the traffic may ask for when `maxBakeSeconds` is not given. */
    bakeCapSeconds: z.number().int().min(60).max(86_400).default(14_400),
    metrics: z.array(z.enum(['errors', 'latency'])).min(1).default(['errors', 'latency']),
    /** Counts the service publishes, each judged like errors beside `metrics`. */
    customMetrics: z.array(customMetric).default([]),
    /** Family-wise false-fail rate across the metrics, custom ones included. */
    alpha: z.number().gt(0).lt(0.5).default(0.05),
    /**
     * A step passes once the canary is shown below its margin: this ratio of the baseline's rate
     * (the latency shift: half the excess) or the absolute increase below, whichever is larger.
     */
    passRatio: z.number().gt(1).max(10).default(2),
    /** The absolute margin for errors and custom counts, a share of requests (0.0025: 0.25 percentage points). */
    maxErrorRateIncrease: z.number().min(0).lt(1).default(0.0025),
    /** The absolute margin for latency: the share of requests over a threshold (0.005: 0.5 points). */
    maxSlowShareIncrease: z.number().min(0).lt(1).default(0.005),
    /** The chance a canary exactly at a margin is promoted, per test. */
    beta: z.number().gt(0).lt(0.5).default(0.003),
    minCanaryRequests: z.number().int().min(1).default(50),
    /** "Slow" for the latency metric; default: the baseline's p99 in the same window. */
    slowThresholdMs: z.number().positive().optional(),
    /**
     * Not enough evidence by the bake bound: roll back (fail safe), promote anyway, or hold at
     * the current weight for one of `policy.approvers` to decide (within
     * `policy.approvalTimeoutHours`; no decision rolls back). Never a silent pass: it is recorded.
     */
    onInconclusive: z.enum(['rollback', 'promote', 'hold']).default('rollback'),
  })
  .refine((c) => c.maxBakeSeconds === undefined || c.maxBakeSeconds >= c.pollSeconds, { message: 'maxBakeSeconds must be at least pollSeconds', path: ['maxBakeSeconds'] })
  .refine((c) => c.bakeCapSeconds >= c.pollSeconds, { message: 'bakeCapSeconds must be at least pollSeconds', path: ['bakeCapSeconds'] })
  // Every look of a step rides in the execution's state (about 60 bytes each), which Step Functions caps at 256 KB.
  .refine((c) => (c.maxBakeSeconds ?? c.bakeCapSeconds) / c.pollSeconds <= MAX_LOOKS_PER_STEP, {
    message: `a step may take at most ${MAX_LOOKS_PER_STEP} looks (its looks ride in the execution's state, which Step Functions caps at 256 KB): raise pollSeconds or lower the bake`,
    path: ['pollSeconds'],
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.customMetrics.forEach((m, i) => {
      if (seen.has(m.name)) ctx.addIssue({ code: 'custom', message: `"${m.name}" appears twice; each custom metric needs its own name`, path: ['customMetrics', i, 'name'] });
      seen.add(m.name);
    });
  });

const environment = z.strictObject({
  name: z.string().regex(ENVIRONMENT_PATTERN, 'lower-case letters, digits and dashes, starting with a letter'),
  /** Base URL the smoke checks' `path`s are joined to (the local target supplies its own). */
  endpoint: z.string().url().optional(),
  target: target.optional(),
  smoke: z.array(smokeCheck).default([]),
  /** Checks on the new version before it takes any traffic (pre-traffic-config.ts); absent: none. */
  preTraffic: z.array(smokeCheck).optional(),
  /** Alarm names whose ALARM state rolls this environment back. */
  alarms: z.array(z.string().min(1)).default([]),
  /** Shift traffic in steps, judged against the baseline after each (absent: all at once). */
  canary: canary.optional(),
  /** A person signs off each deploy here (approval-config.ts): `needed` of `from` within `timeoutHours`. */
  approval: environmentApprovalSchema.optional(),
  /** Schema migrations: `expand` after the lock and before the deploy, `contract` once known-good (migrations-config.ts). */
  migrations: migrationsSchema.optional(),
});

const service = z.strictObject({
  triggers: z
    .strictObject({
      github: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected "owner/repo"').optional(),
      codecommit: z.string().min(1).optional(),
      ecr: z.string().min(1).optional(),
    })
    .default({}),
  target: target.default({ type: 'local' }),
  tests: z
    .strictObject({
      requiredSuites: z.array(z.string().min(1)).default([]),
    })
    .default({ requiredSuites: [] }),
  /** Pre-release versions (v1.2.0-rc.1) stop after this environment; null: they go all the way. Default: "staging" when there is one. */
  prereleaseStopsAfter: z.string().nullable().optional(),
  environments: z.array(environment).min(1, 'a service needs at least one environment'),
  /** Signatures, provenance, SBOM and the vulnerability gate (supply-chain/config.ts); over the top-level defaults. */
  supplyChain: supplyChainSchema.optional(),
});

export const pipelineConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  services: z
    .record(z.string().regex(SERVICE_PATTERN, 'a service name is lower-case letters, digits and dashes, starting with a letter, at most 63 characters (e.g. "checkout")'), service)
    .refine((s) => Object.keys(s).length > 0, 'no services: add at least one, e.g. "services": {"checkout": {"environments": [{"name": "dev"}]}}'),
  /** Deployment windows, freezes and emergency approvers (policy-config.ts); absent: always open. */
  policy: policySchema.optional(),
  /** Release trains: several services shipping one version in a deploy order (train-config.ts). */
  trains: trainsSchema.optional(),
  /** Every service's supply-chain policy unless it gives its own fields (supply-chain/config.ts); absent: off. */
  supplyChain: supplyChainSchema.optional(),
});

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;
export type ServiceConfig = z.infer<typeof service>;
export type EnvironmentConfig = z.infer<typeof environment>;
export type SmokeCheck = z.infer<typeof smokeCheck>;
export type HttpCheck = z.infer<typeof httpCheck>;
export type InvokeCheck = z.infer<typeof invokeCheck>;
export type TargetConfig = z.infer<typeof target>;
export type CanaryConfig = z.infer<typeof canary>;
export type CustomMetric = z.infer<typeof customMetric>;

const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': Object.keys(pipelineConfigSchema.shape),
  service: Object.keys(service.shape),
  environment: Object.keys(environment.shape),
  canary: ['steps', 'pollSeconds', 'maxBakeSeconds', 'bakeCapSeconds', 'metrics', 'customMetrics', 'alpha', 'passRatio', 'maxErrorRateIncrease', 'maxSlowShareIncrease', 'beta', 'minCanaryRequests', 'slowThresholdMs', 'onInconclusive'],
  customMetric: Object.keys(customMetric.shape),
  approval: APPROVAL_KEYS,
  triggers: ['github', 'codecommit', 'ecr'],
  smoke: [...new Set([...Object.keys(httpCheck.shape ?? {}), ...Object.keys(invokeCheck.shape)])],
  ...POLICY_KEYS,
  supplyChain: SUPPLY_CHAIN_KEYS,
  migrations: MIGRATION_KEYS,
  allow: ALLOW_KEYS,
  maxSeverity: MAX_SEVERITY_KEYS,
};

function knownKeysAt(path: readonly PropertyKey[]): readonly string[] {
  const names = path.filter((p) => typeof p === 'string');
  if (path.length === 0) return KNOWN_KEYS['']!;
  if (path[0] === 'trains') return path.length === 2 ? TRAIN_KEYS : [];
  if (names.includes('supplyChain')) return names.at(-1) === 'maxSeverity' ? KNOWN_KEYS.maxSeverity! : names.includes('allow') ? KNOWN_KEYS.allow! : KNOWN_KEYS.supplyChain!;
  if (path[0] === 'policy') return path.length === 1 ? KNOWN_KEYS.policy! : path[1] === 'windows' ? KNOWN_KEYS.window! : path[1] === 'freezes' ? KNOWN_KEYS.freeze! : [];
  if (names.at(-1) === 'triggers') return KNOWN_KEYS.triggers!;
  if (names.includes('smoke') || names.includes('preTraffic')) return KNOWN_KEYS.smoke!;
  if (names.at(-1) === 'canary') return KNOWN_KEYS.canary!;
  if (names.at(-1) === 'approval') return KNOWN_KEYS.approval!;
  if (names.includes('migrations')) return KNOWN_KEYS.migrations!;
  if (names.at(-1) === 'customMetrics') return KNOWN_KEYS.customMetric!;
  if (names.includes('environments')) return KNOWN_KEYS.environment!;
  if (path.length === 2 && path[0] === 'services') return KNOWN_KEYS.service!;
  return [];
}

/** Parses and checks the whole config; throws `ConfigError` naming every bad field at once. */
export function parseConfig(raw: unknown, source = 'tagflow.config.json'): PipelineConfig {
  const result = pipelineConfigSchema.safeParse(raw, { reportInput: true });
  const issues: FieldIssue[] = result.success ? [] : describeIssues(result.error, knownKeysAt);
  // The checks across fields run on every part that parses, so one run reports every problem.
  issues.push(...crossIssues(result.success ? result.data : partsThatParse(raw), raw));
  if (issues.length || !result.success) throw new ConfigError(issues, source);
  withSupplyChainDefaults(result.data.services, result.data.supplyChain);
  return result.data;
}

/** Of a config that does not parse, the services and the policy that do on their own. */
function partsThatParse(raw: unknown): PipelineConfig {
  const doc = isObject(raw) ? raw : {};
  const services = Object.fromEntries(
    Object.entries(isObject(doc.services) ? doc.services : {}).flatMap(([name, svc]) => {
      const parsed = service.safeParse(svc);
      return parsed.success ? [[name, parsed.data]] : [];
    }),
  );
  const policy = doc.policy === undefined ? undefined : policySchema.safeParse(doc.policy);
  const trains = doc.trains === undefined ? undefined : trainsSchema.safeParse(doc.trains);
  return { services, ...(policy?.success ? { policy: policy.data } : {}), ...(trains?.success ? { trains: trains.data } : {}) };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function crossIssues(config: PipelineConfig, raw: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [name, svc] of Object.entries(config.services)) {
    const seen = new Set<string>();
    svc.environments.forEach((env, i) => {
      if (seen.has(env.name)) issues.push({ field: `services.${name}.environments[${i}].name`, problem: `"${env.name}" appears twice` });
      seen.add(env.name);
    });
    if (typeof svc.prereleaseStopsAfter === 'string' && !seen.has(svc.prereleaseStopsAfter)) {
      issues.push({
        field: `services.${name}.prereleaseStopsAfter`,
        problem: `"${svc.prereleaseStopsAfter}" is not one of this service's environments (${[...seen].join(', ')}); use one of them or null`,
      });
    }
  }
  issues.push(...sharedTriggerIssues(raw));
  if (config.trains) issues.push(...trainIssues(config.trains, config.services));
  issues.push(...holdIssues(config));
  issues.push(...preTrafficIssues(config.services));
  issues.push(...migrationIssues(config.services, (config.policy?.approvers.length ?? 0) > 0));
  issues.push(...supplyChainIssues(config.services, config.supplyChain));
  issues.push(...approvalIssues(config.services, config.policy !== undefined));
  // Every service's environment names, also of services wrong elsewhere: no false "no such environment".
  const services = isObject(raw) && isObject(raw.services) ? Object.values(raw.services) : [];
  const names = services.flatMap((svc) => (isObject(svc) && Array.isArray(svc.environments) ? svc.environments.flatMap((e) => (isObject(e) && typeof e.name === 'string' ? [e.name] : [])) : []));
  if (config.policy) issues.push(...policyIssues(config.policy, config.services, names));
  // A policy that does not parse still has the environments it names checked.
  else if (isObject(raw) && raw.policy !== undefined) issues.push(...environmentNameIssues(raw.policy, names));
  return issues;
}

/**
 * A repository feeds one service: a trigger matches the first service that names it, so a
 * second one would never be released by it. Read from the raw document, so a service that is
 * wrong elsewhere is still checked. GitHub names ignore case.
 */
function sharedTriggerIssues(raw: unknown): FieldIssue[] {
  const services = isObject(raw) && isObject(raw.services) ? raw.services : {};
  const issues: FieldIssue[] = [];
  for (const kind of ['github', 'codecommit', 'ecr'] as const) {
    const owner = new Map<string, string>();
    for (const [name, svc] of Object.entries(services)) {
      const repository = isObject(svc) && isObject(svc.triggers) ? svc.triggers[kind] : undefined;
      if (typeof repository !== 'string') continue;
      const key = kind === 'github' ? repository.toLowerCase() : repository;
      const first = owner.get(key);
      if (first === undefined) owner.set(key, name);
      else issues.push({ field: `services.${name}.triggers.${kind}`, problem: `${JSON.stringify(repository)} already feeds service "${first}": a push there would start only "${first}"'s release; give each service its own repository` });
    }
  }
  return issues;
}

/** A canary that holds for a person needs someone to ask. */
function holdIssues(config: PipelineConfig): FieldIssue[] {
  if ((config.policy?.approvers.length ?? 0) > 0) return [];
  const issues: FieldIssue[] = [];
  for (const [name, svc] of Object.entries(config.services)) {
    svc.environments.forEach((env, i) => {
      if (env.canary?.onInconclusive !== 'hold') return;
      issues.push({
        field: `services.${name}.environments[${i}].canary.onInconclusive`,
        problem: '"hold" waits for one of policy.approvers to promote or roll back the canary, and policy.approvers lists nobody; add approvers to policy.approvers, or use "rollback" (fail safe) or "promote"',
      });
    });
  }
  return issues;
}

export function parseConfigText(text: string, source = 'tagflow.config.json'): PipelineConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ field: '(file)', problem: `not valid JSON: ${(err as Error).message}` }], source);
  }
  return parseConfig(raw, source);
}
