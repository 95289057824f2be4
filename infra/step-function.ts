import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { CONFIG_FILE } from '../lambdas/adapters/aws/config.js';
import { bundleHandlersSync, HANDLERS } from './bundle-handlers.js';
import { BUNDLE_TARGET } from './bundling.js';

export interface StepFunctionProps {
  /** Folder under `lambdas/`: the entry is `lambdas/<step>/handler.ts`, export `handler`. */
  step: string;
  /** The repository root (holds `lambdas/` and `node_modules/`). */
  projectRoot: string;
  timeout: Duration;
  environment: Record<string, string>;
  /** @default 512 */
  memorySize?: number;
  /** @default three months */
  logRetention?: RetentionDays;
  /** The pipeline config (`shippedConfigFile`), for a function that reads it: shipped in its code as `CONFIG_FILE`. */
  configFile?: string;
}

/**
 * A tagflow Lambda with the defaults every step shares: Node 22 on Graviton, X-Ray, its own
 * log group, and its handler's bundle from the one esbuild build of all handlers
 * (`bundle-handlers.ts`, options in `bundling.ts`), with the config file beside it when it
 * reads the config. Its role starts with nothing but writing to that log group (no
 * AWSLambdaBasicExecutionRole, whose log permissions cover every log group); each step is
 * granted what it uses by the stack.
 */
export class StepFunction extends LambdaFunction {
  readonly step: string;
  /** The function's own log group (also `logGroup`, typed as the concrete class here). */
  readonly logs: LogGroup;
  /** The config file shipped in its code, if it reads the config. */
  readonly configFile: string | undefined;

  constructor(scope: Construct, id: string, props: StepFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `tagflow step ${props.step}`,
    });
    super(scope, id, {
      code: Code.fromAsset(functionCode(scope, props)),
      handler: 'index.handler',
      description: `tagflow step ${props.step}`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      // Stack traces in the logs name the .ts lines (the bundle ships its source map).
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
    });
    this.step = props.step;
    this.logs = logGroup;
    this.configFile = props.configFile;

    // Only its own log group (the group's ARN ends in `:*`, which covers its streams).
    logGroup.grantWrite(role);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing (tracing ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `Pinned to nodejs22.x on purpose: the bundles target ${BUNDLE_TARGET} and the code is tested on Node 22 (and 20); move the runtime and BUNDLE_TARGET to Node 24 together, after testing on it.`,
    });
  }
}

/**
 * The directory a function's code asset is made of: `index.mjs` and its map, and the config
 * file when it reads the config. The asset's hash is that of these files' contents, so a
 * changed handler (or a changed dependency of it) or config redeploys exactly the functions
 * whose files changed.
 *
 * The bundles come from one build of every handler (`HANDLERS`, plus this step if it is not
 * among them) the first time a stack that needs bundling asks, reused by every function of
 * the process. A stack outside `aws:cdk:bundling-stacks` (the tests set `[]`; `cdk deploy A`
 * sets `['A']`) gets a stub in place of the bundle, as CDK's own bundling skips, and no build
 * runs: a stub that throws if it is ever deployed.
 */
function functionCode(scope: Construct, props: StepFunctionProps): string {
  // Assets with staging disabled (SAM, `cdk synth --no-staging`) point at these files: keep them.
  if (scope.node.tryGetContext('aws:cdk:disable-asset-staging')) work.keep = true;
  const bundle = Stack.of(scope).bundlingRequired ? bundleOf(props.projectRoot, props.step) : stubOf(props.step);
  const config = props.configFile === undefined ? undefined : readFileSync(props.configFile);
  const key = createHash('sha256').update(bundle).update('\0').update(config ?? '').digest('hex').slice(0, 16);
  const dir = join(workdir(), 'functions', `${props.step}-${key}`);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    for (const file of readdirSync(bundle)) copyFileSync(join(bundle, file), join(dir, file));
    if (config !== undefined) writeFileSync(join(dir, CONFIG_FILE), config);
  }
  return dir;
}

/**
 * This process's scratch directory (the build's output, the functions' asset directories):
 * `<tmp>/tagflow-functions/<pid>`, removed when the process exits, and by the next process that
 * finds it after one that could not (a test worker killed at the end of a run).
 */
const work: { dir?: string; keep: boolean } = { keep: false };
/** Marks a directory an exited process left for its cloud assembly. */
const KEEP = '.keep';

function workdir(): string {
  if (work.dir === undefined) {
    const root = join(tmpdir(), 'tagflow-functions');
    mkdirSync(root, { recursive: true });
    for (const entry of readdirSync(root)) {
      const pid = Number(entry);
      if (Number.isInteger(pid) && pid !== process.pid && !alive(pid) && !existsSync(join(root, entry, KEEP))) rmSync(join(root, entry), { recursive: true, force: true });
    }
    const dir = join(root, String(process.pid));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    work.dir = dir;
    // CDK copies each asset into the cloud assembly when the function is constructed.
    process.once('exit', () => {
      if (work.keep) writeFileSync(join(dir, KEEP), 'the cloud assembly points here (asset staging disabled)\n');
      else rmSync(dir, { recursive: true, force: true });
    });
  }
  return work.dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Per project root: where its build is and which handlers it holds. */
const builds = new Map<string, { outdir: string; steps: Set<string> }>();

/** The directory of `step`'s bundle, building every handler once per process. */
function bundleOf(projectRoot: string, step: string): string {
  let built = builds.get(projectRoot);
  if (built === undefined) {
    const steps = [...new Set([...HANDLERS, step])];
    const outdir = join(workdir(), `build-${builds.size}`);
    bundleHandlersSync(projectRoot, steps, outdir);
    built = { outdir, steps: new Set(steps) };
    builds.set(projectRoot, built);
  } else if (!built.steps.has(step)) {
    bundleHandlersSync(projectRoot, [step], built.outdir);
    built.steps.add(step);
  }
  return join(built.outdir, step);
}

/** A stand-in for the bundle of a stack synthesised without bundling. */
function stubOf(step: string): string {
  const dir = join(workdir(), 'unbundled', step);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.mjs'), `throw new Error(${JSON.stringify(`tagflow ${step}: synthesised without bundling (aws:cdk:bundling-stacks), not deployable`)});\n`);
  }
  return dir;
}
