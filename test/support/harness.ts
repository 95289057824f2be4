import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText, type PipelineConfig } from '../../lambdas/lib/config.js';
import { environmentManifestKey } from '../../lambdas/lib/keys.js';
import type { SuiteResult } from '../../lambdas/lib/types.js';
import { publishBuild, reportTests } from '../../local/runtime/ci.js';
import { LOCAL_LOCATIONS, LocalRuntime, type RuntimeOptions } from '../../local/runtime/runtime.js';

export const ROOT = join(import.meta.dirname, '..', '..');
/** The demo's pipeline config; without prod's canary unless asked (a canary needs traffic to be judged). */
export function demoConfig(opts: { canary?: boolean } = {}): PipelineConfig {
  const config = parseConfigText(readFileSync(join(ROOT, 'examples', 'tagflow.config.json'), 'utf8'));
  if (!opts.canary) for (const env of config.services.demo!.environments) delete env.canary;
  return config;
}
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
  close(): Promise<void>;
}

export async function startHarness(opts: Partial<RuntimeOptions> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tagflow-test-'));
  const config = opts.config ?? demoConfig();
  // Retries that wait 20 s in AWS wait milliseconds here; their counts and order are unchanged.
  const rt = await LocalRuntime.start({ dataDir, config, retryIntervals: { 'Acquire environment lock': 50, 'Tests gate': 50 }, ...opts });
  return {
    rt,
    dataDir,
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
