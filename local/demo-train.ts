import { join } from 'node:path';
import { parseConfig, type PipelineConfig } from '../lambdas/lib/config.js';
import type { Decision } from '../lambdas/lib/types.js';
import { trainKey } from '../lambdas/lib/train.js';
import { trainStatus } from './cli/train-status.js';
import { publishBuild, reportTests } from './runtime/ci.js';
import { LOCAL_LOCATIONS, type LocalRuntime } from './runtime/runtime.js';

/**
 * The demo's release train: two small services built from the demo's v1.3.0 folder, shipped as
 * one version, catalog before cart in each environment. They are copies of the demo service
 * without its prod canary (the canary part of the demo is the demo service's), and without
 * triggers: a train is started as a whole.
 */
export const DEMO_TRAIN = { name: 'shop', version: 'v2.0.0', members: ['catalog', 'cart'] } as const;

/** The demo config with the train's two services and the train. */
export function withDemoTrain(config: PipelineConfig): PipelineConfig {
  const services = { ...config.services };
  for (const name of DEMO_TRAIN.members) {
    const copy = structuredClone(config.services.demo!);
    copy.triggers = {};
    for (const env of copy.environments) {
      delete env.canary;
      env.alarms = [];
    }
    services[name] = copy;
  }
  return parseConfig({ ...config, services, trains: { ...config.trains, [DEMO_TRAIN.name]: { services: [...DEMO_TRAIN.members] } } });
}

/** CI publishes each member's build of the train's version from one folder, with green tests. */
export async function publishTrainBuilds(rt: LocalRuntime, root: string): Promise<void> {
  for (const [i, service] of DEMO_TRAIN.members.entries()) {
    const commit = `5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708${i}`;
    const changes = [{ sha: commit, subject: `feat(${service}): ${service} ${DEMO_TRAIN.version} for the ${DEMO_TRAIN.name} train`, author: 'Ada Lovelace', date: '2026-11-02T10:00:00.000Z' }];
    await publishBuild(rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, { service, version: DEMO_TRAIN.version, commit, changes, dir: join(root, 'examples', 'demo-service', 'v1.3.0'), entry: 'app.mjs', build: '1' });
    await reportTests(rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, service, commit, [{ name: 'unit', passed: 42, failed: 0 }, { name: 'integration', passed: 7, failed: 0 }]);
  }
}

/**
 * One line per member: its version per environment (tagflow status --train), and where it went
 * in each environment's order, as the train's record in the ledger says. True when every member
 * reached every environment in the configured order.
 */
export async function trainLines(rt: LocalRuntime, config: PipelineConfig): Promise<{ lines: string[]; inOrder: boolean }> {
  const [record] = (await rt.deps.ledger.decisions(trainKey(DEMO_TRAIN.name), DEMO_TRAIN.version)) as (Decision & { evidence?: { fates?: { service: string; environment: string; status: string }[] } })[];
  const fates = record?.evidence?.fates ?? [];
  const envs = [...new Set(fates.map((f) => f.environment))];
  const position = (service: string, env: string) => fates.filter((f) => f.environment === env).findIndex((f) => f.service === service) + 1;
  const [header, ...rows] = await trainStatus(rt.deps.ledger, config, DEMO_TRAIN.name);
  const lines = [header!, ...rows.map((row, i) => `${row}   ${envs.map((e) => `#${position(DEMO_TRAIN.members[i]!, e)}`).join(' ')}`)];
  const inOrder = envs.length === config.services.demo!.environments.length && envs.every((e) => DEMO_TRAIN.members.every((m, i) => position(m, e) === i + 1)) && fates.every((f) => f.status === 'released');
  return { lines, inOrder };
}
