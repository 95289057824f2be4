import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfigText, type PipelineConfig } from '../lambdas/lib/config.js';
import { EVENT_RULES } from '../lambdas/lib/event-rules.js';
import { TagflowStack } from './stack.js';

/** The repository root (this file is `infra/app.ts`). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_CONFIG = 'examples/tagflow.config.json';

export interface LoadedConfig {
  path: string;
  config: PipelineConfig;
}

/** Reads and validates the pipeline config; a bad one throws a ConfigError naming each bad field. */
export function loadPipelineConfig(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the pipeline config ${path} (set it with: cdk synth -c config=FILE): ${(err as Error).message}`);
  }
  return { path, config: parseConfigText(text, path) };
}

const contextFlag = (app: App, key: string): boolean => {
  const v: unknown = app.node.tryGetContext(key);
  return v === true || v === 'true';
};

/**
 * Adds the tagflow stack to `app`. Context: `config` (the pipeline config, relative to the
 * working directory; default `examples/tagflow.config.json`), `useDefaultBus` (true: no
 * dedicated `tagflow` bus), `stackName` (default `Tagflow`), `alertEmail` (subscribed to the
 * topic the pipeline's alarms notify).
 */
export function buildApp(app: App): TagflowStack {
  const configPath = resolve(String(app.node.tryGetContext('config') ?? DEFAULT_CONFIG));
  const loaded = loadPipelineConfig(configPath);
  return new TagflowStack(app, String(app.node.tryGetContext('stackName') ?? 'Tagflow'), {
    description: 'tagflow: a release pipeline (tests gate, promotion, canary, smoke tests, rollback) on Step Functions',
    projectRoot: PROJECT_ROOT,
    config: loaded.config,
    eventRules: EVENT_RULES,
    useDefaultBus: contextFlag(app, 'useDefaultBus'),
    ...(app.node.tryGetContext('alertEmail') ? { alertEmail: String(app.node.tryGetContext('alertEmail')) } : {}),
  });
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const app = new App();
  buildApp(app);
  // The same checks the infra test runs: a new unacknowledged finding fails `cdk synth`.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
}
