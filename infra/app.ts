import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, Token, Validations, type Environment } from 'aws-cdk-lib';
import type { CfnAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfigText, type PipelineConfig } from '../lambdas/lib/config.js';
import { deployProblems, NotDeployable } from '../lambdas/lib/deployable.js';
import { eventRules } from '../lambdas/lib/event-rules.js';
import { TagflowStack } from './stack.js';

/** The repository root (this file is `infra/app.ts`). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

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

export interface BuildOptions {
  /** Where the stack goes; `cdk` passes the profile's account and region (CDK_DEFAULT_*). @default env-agnostic */
  env?: Environment;
  /** @default context `stackName`, else `Tagflow` */
  stackName?: string;
}

/**
 * Adds the tagflow stack to `app`. Context: `config` (the pipeline config, relative to the
 * working directory; required), `useDefaultBus` (true: no dedicated bus), `stackName`
 * (default `Tagflow`), `alertEmail` (subscribed to the topic the pipeline's alarms notify).
 * A config that validates but cannot work in AWS (a `local` target, a target in another
 * region than `env.region`…: lambdas/lib/deployable.ts) throws `NotDeployable`, naming every
 * field.
 */
export function buildApp(app: App, options: BuildOptions = {}): TagflowStack {
  const configContext: unknown = app.node.tryGetContext('config');
  if (typeof configContext !== 'string' || !configContext) {
    throw new Error('no pipeline config: pass it with -c config=FILE, e.g. cdk deploy -c config=tagflow.config.json (examples/aws.config.json is a sample with AWS targets; examples/tagflow.config.json is the local demo\'s and deploys nothing)');
  }
  const loaded = loadPipelineConfig(resolve(configContext));
  const stack = new TagflowStack(app, options.stackName ?? String(app.node.tryGetContext('stackName') ?? 'Tagflow'), {
    description: 'tagflow: a release pipeline (tests gate, promotion, canary, smoke tests, rollback) on Step Functions',
    ...(options.env ? { env: options.env } : {}),
    projectRoot: PROJECT_ROOT,
    config: loaded.config,
    eventRules: eventRules(loaded.config),
    useDefaultBus: contextFlag(app, 'useDefaultBus'),
    ...(app.node.tryGetContext('alertEmail') ? { alertEmail: String(app.node.tryGetContext('alertEmail')) } : {}),
  });
  const problems = deployProblems(loaded.config, {
    // An env-agnostic stack learns its region only at deploy time: the region checks cannot run.
    ...(Token.isUnresolved(stack.region) ? {} : { region: stack.region }),
    ...(Token.isUnresolved(stack.account) ? {} : { account: stack.account }),
    ownAlarmNames: stack.monitoring.alarms.map((a) => (a.node.defaultChild as CfnAlarm).alarmName!),
  });
  if (problems.length) throw new NotDeployable(problems, loaded.path);
  return stack;
}

/** The account and region the `cdk` CLI resolved from the profile (unset: env-agnostic). */
export function cliEnvironment(vars: NodeJS.ProcessEnv = process.env): Environment | undefined {
  const { CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: region } = vars;
  if (!account && !region) return undefined;
  return { ...(account ? { account } : {}), ...(region ? { region } : {}) };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const app = new App();
  const env = cliEnvironment();
  buildApp(app, env ? { env } : {});
  // The same checks the infra test runs: a new unacknowledged finding fails `cdk synth`.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
}
