import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type PipelineConfig } from '../../lambdas/lib/config.js';
import { environmentManifestKey } from '../../lambdas/lib/keys.js';
import type { Deps } from '../../lambdas/lib/ports.js';
import type { CanaryStepInput } from '../../lambdas/lib/steps/canary.js';
import type { SuiteResult } from '../../lambdas/lib/types.js';
import { publishBuild, reportTests } from '../../local/runtime/ci.js';
import { LOCAL_LOCATIONS, LocalRuntime, type RuntimeOptions } from '../../local/runtime/runtime.js';
import { STEP_RUNS } from '../../local/runtime/step-runs.js';
import { sendRequests } from '../../local/runtime/traffic.js';

export const ROOT = join(import.meta.dirname, '..', '..');

/** A service of the examples' config as JSON, before it is parsed (and its defaults filled in). */
export interface RawService {
  triggers: Record<string, string>;
  environments: RawEnvironment[];
  [field: string]: unknown;
}
export interface RawEnvironment {
  name: string;
  smoke: Record<string, unknown>[];
  alarms?: string[];
  canary?: Record<string, unknown>;
  [field: string]: unknown;
}

/** The examples' config as JSON, before it is parsed: a test changes it, then parses or writes it. */
export interface RawConfig {
  services: Record<string, RawService>;
  policy?: unknown;
  [field: string]: unknown;
}
export const exampleConfigJson = (): RawConfig => JSON.parse(readFileSync(join(ROOT, 'examples', 'tagflow.config.json'), 'utf8')) as RawConfig;

export interface ConfigOptions {
  /** Keep prod's canary (a canary needs traffic to be judged). */
  canary?: boolean;
  /**
   * More services, each a copy of demo under its own name, with its own triggers (repository
   * `acme/NAME`, CodeCommit and ECR repository `NAME`) and prod alarm (`NAME-prod-errors`),
   * changed by its function if given. A test that releases its own service reads and leaves
   * state no other test touches.
   */
  services?: Record<string, ((service: RawService) => void) | null> | string[];
  policy?: Record<string, unknown>;
}

/** The demo's pipeline config; without prod's canary unless asked (a canary needs traffic to be judged). */
export function demoConfig(opts: ConfigOptions = {}): PipelineConfig {
  const raw = exampleConfigJson();
  const demo = raw.services.demo!;
  const extra = Array.isArray(opts.services) ? Object.fromEntries(opts.services.map((name) => [name, null])) : (opts.services ?? {});
  for (const [name, change] of Object.entries(extra)) {
    if (raw.services[name]) throw new Error(`service ${name} is in the config already`);
    const copy = structuredClone(demo);
    copy.triggers = { github: `acme/${name}`, codecommit: name, ecr: name };
    for (const env of copy.environments) if (env.alarms) env.alarms = env.alarms.map((a) => a.replace(/^demo-/, `${name}-`));
    if (!opts.canary) for (const env of copy.environments) delete env.canary;
    change?.(copy);
    raw.services[name] = copy;
  }
  if (!opts.canary) for (const env of demo.environments) delete env.canary;
  if (opts.policy) raw.policy = opts.policy;
  return parseConfig(raw);
}

/** Prod's environment of a raw service, to change its canary. */
export const prodOf = (service: RawService): RawEnvironment => service.environments.find((e) => e.name === 'prod')!;
export const GOOD_DIR = join(ROOT, 'examples', 'demo-service', 'v1.0.0');
export const BAD_DIR = join(ROOT, 'examples', 'demo-service', 'v1.1.0');
export const ERRORS_X5_DIR = join(ROOT, 'examples', 'demo-service', 'v1.2.0');
export const GREEN: SuiteResult[] = [
  { name: 'unit', passed: 12, failed: 0 },
  { name: 'integration', passed: 3, failed: 0 },
];

/** A commit SHA derived from a version, so each build in a test has its own. */
export const commitOf = (version: string) => Buffer.from(version).toString('hex').padEnd(40, '0').slice(0, 40);

export interface Harness {
  rt: LocalRuntime;
  dataDir: string;
  publish(version: string, opts?: { dir?: string; suites?: SuiteResult[] | null; service?: string }): Promise<void>;
  /** Whether any environment holds a promoted copy of this version. */
  promotedAnywhere(service: string, version: string): Promise<string[]>;
  /**
   * Users of one service's environment, in simulated minutes: until `stop()`, each look of that
   * environment's canary judge (after a Bake canary, a minute in AWS) comes after exactly
   * `perMinute` more real requests through the fleet's weighted router, every one of them
   * served before the judge looks. What the judge counts is set by the test, not by how fast
   * the machine sends requests.
   */
  users(service: string, environment: string, plan: UsersPlan): Users;
  close(): Promise<void>;
}

export interface UsersPlan {
  /** Requests per simulated minute (one bake, one look of the judge). */
  perMinute: number;
  paths: string[];
  /** Requests in flight at once (how fast a minute's requests are sent, never how many). */
  concurrency?: number;
}

export interface Users {
  /** What they sent: `minutes` looks, `perMinute` requests before each; `failures` answered 5xx or not at all. */
  stop(): { requests: number; failures: number; minutes: number };
}

/** What a runtime's users do in the simulated minute before each look of its canary judge. */
const beforeLook = new WeakMap<Deps, (input: CanaryStepInput) => Promise<void>>();
let judgeWrapped = false;

/**
 * The local runtime takes each step's core from STEP_RUNS when it starts. The judge's is
 * wrapped (once per test file's module graph) so that a harness's users, if it has any, send
 * their minute of requests before the real judge looks; a runtime without users judges exactly
 * as it would without the wrapper. The Bake canary wait itself is then only the machine's
 * pause, and tests set it to 0.
 */
function wrapJudge(): void {
  if (judgeWrapped) return;
  judgeWrapped = true;
  const judge = STEP_RUNS['judge-canary'];
  STEP_RUNS['judge-canary'] = async (input, deps) => {
    await beforeLook.get(deps)?.(input as CanaryStepInput);
    return judge(input, deps);
  };
}

export async function startHarness(opts: Partial<RuntimeOptions> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tagflow-test-'));
  const config = opts.config ?? demoConfig();
  wrapJudge();
  // Retries that wait 20 s in AWS wait milliseconds here; their counts and order are unchanged.
  const rt = await LocalRuntime.start({ dataDir, config, retryIntervals: { 'Acquire environment lock': 50, 'Tests gate': 50 }, ...opts });
  const users = new Map<string, UsersPlan & { requests: number; failures: number; minutes: number }>();
  beforeLook.set(rt.deps, async (input) => {
    if (input.canary.mode !== 'canary') return;
    const { service } = input.release;
    const environment = input.environment.name;
    const u = users.get(`${service}/${environment}`);
    if (!u) return;
    const sent = await sendRequests(await rt.fleet.endpoint(service, environment), u.perMinute, { paths: u.paths, concurrency: u.concurrency ?? 16 });
    u.requests += sent.requests;
    u.failures += sent.failures;
    u.minutes++;
  });
  return {
    rt,
    dataDir,
    users(service, environment, plan) {
      const key = `${service}/${environment}`;
      if (users.has(key)) throw new Error(`${key} has users already`);
      if (!Number.isInteger(plan.perMinute) || plan.perMinute < 1) throw new Error(`perMinute must be a whole number ≥ 1, got ${plan.perMinute}`);
      const u = { ...plan, requests: 0, failures: 0, minutes: 0 };
      users.set(key, u);
      return {
        stop() {
          users.delete(key);
          return { requests: u.requests, failures: u.failures, minutes: u.minutes };
        },
      };
    },
    async publish(version, { dir = GOOD_DIR, suites = GREEN, service = 'demo' } = {}) {
      const commit = commitOf(version);
      await publishBuild(rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, { service, version, commit, dir, entry: 'app.mjs' });
      if (suites) await reportTests(rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, service, commit, suites);
    },
    async promotedAnywhere(service, version) {
      const found: string[] = [];
      for (const env of config.services[service]!.environments) {
        if (await rt.deps.store.get({ bucket: LOCAL_LOCATIONS.environmentsBucket, key: environmentManifestKey(env.name, service, version) })) found.push(env.name);
      }
      return found;
    },
    async close() {
      await rt.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The names of the states an execution entered, in order. */
export function statesEntered(history: { type: string; state?: { name: string } }[]): string[] {
  return history.filter((e) => e.type === 'StateEntered').map((e) => e.state!.name);
}

/** The environment each "Enter environment" step picked, in order. */
export function environmentsEntered(history: { type: string; state?: { name: string; output?: unknown } }[]): string[] {
  return history
    .filter((e) => e.type === 'StateExited' && e.state?.name === 'Enter environment')
    .map((e) => (e.state!.output as { stage: { environment: { name: string } } }).stage.environment.name);
}
