import { platform } from 'node:os';
import { join, resolve } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { CONFIG_FILE } from '../lambdas/adapters/aws/config.js';
import { ALIASES, BUNDLE_TARGET, EXTERNAL_MODULES, MAIN_FIELDS, REQUIRE_SHIM_BANNER } from './bundling.js';

export interface StepFunctionProps {
  /** Folder under `lambdas/`: the entry is `lambdas/<step>/handler.ts`, export `handler`. */
  step: string;
  /** The repository root (holds `lambdas/` and `package-lock.json`). */
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
 * log group, and an esbuild ESM bundle (options in `bundling.ts`). Its role starts with
 * nothing but writing to that log group (no AWSLambdaBasicExecutionRole, whose log
 * permissions cover every log group); each step is granted what it uses by the stack.
 */
export class StepFunction extends NodejsFunction {
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
      entry: join(props.projectRoot, 'lambdas', props.step, 'handler.ts'),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
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
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        keepNames: true,
        mainFields: MAIN_FIELDS,
        banner: REQUIRE_SHIM_BANNER,
        externalModules: EXTERNAL_MODULES,
        // The construct has no alias option; it passes `--alias` through to esbuild as `--alias:<from>=<to>`.
        esbuildArgs: { '--alias': Object.entries(ALIASES).map(([from, to]) => `${from}=${to}`) },
        ...(props.configFile !== undefined ? { commandHooks: shipBeside(resolve(props.configFile), CONFIG_FILE) } : {}),
      },
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

/** Posix shell quoting: the path may hold spaces or quotes. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Bundling hooks that copy `file` into the bundle's directory as `name`. CDK runs them after
 * esbuild, with bash (cmd on Windows); the asset's hash covers the copy, so a changed file
 * redeploys the function.
 */
function shipBeside(file: string, name: string): ICommandHooks {
  const copy = (outputDir: string) =>
    platform() === 'win32' ? `copy /Y "${file}" "${join(outputDir, name)}"` : `cp ${shellQuote(file)} ${shellQuote(join(outputDir, name))}`;
  return { beforeBundling: () => [], beforeInstall: () => [], afterBundling: (_inputDir, outputDir) => [copy(outputDir)] };
}
