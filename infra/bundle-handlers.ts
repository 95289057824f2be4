import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { CONFIG_FILE } from '../lambdas/adapters/aws/config.js';
import { STEP_NAMES } from '../lambdas/steps.js';
import { ESBUILD_OPTIONS } from './bundling.js';
import { literalSchemaKeysPlugin, type TransformStats } from './literal-schema-keys.js';
import { staticEventStreamsPlugin } from './static-event-streams.js';

/**
 * The one esbuild build of every tagflow handler: the stack's functions ship its output
 * (`step-function.ts`, through `bundleHandlersSync`), and the bundle test and
 * `bench/bundles.ts` import it. One build for all handlers, not one per function: the SDK and
 * our libraries are parsed once, and the build runs on every core.
 */

/** Every handler the stack deploys: the steps (`lambdas/steps.ts`), the GitHub webhook receiver, the approval function and the reconciler. */
export const HANDLERS: readonly string[] = [...STEP_NAMES, 'github-webhook', 'decide-approval', 'reconcile'];

/**
 * Where esbuild is told the outputs go (written elsewhere, by us): `<root>/.bundles/<step>/`,
 * so each source map names its sources `../../lambdas/…`, `../../node_modules/…` wherever the
 * build is written and wherever the checkout is, and the asset hashes do not depend on either.
 */
const NOMINAL_OUTDIR = '.bundles';

export interface Bundle {
  step: string;
  /** `<outdir>/<step>/index.mjs` */
  file: string;
  bytes: number;
  mapBytes: number;
}

/** What the SDK plugins changed in a build (what `infra/literal-schema-keys.ts` and `infra/static-event-streams.ts` say they do). */
export interface SdkTransformStats {
  literalSchemaKeys: TransformStats;
  staticEventStreams: TransformStats;
}

/**
 * The plugins that make the AWS SDK smaller and quicker to load in the bundles, by
 * transforming its files in memory as esbuild loads them (never in node_modules).
 */
export function sdkPlugins(stats?: SdkTransformStats): Plugin[] {
  return [literalSchemaKeysPlugin(stats?.literalSchemaKeys), staticEventStreamsPlugin(stats?.staticEventStreams)];
}

export interface BundleOptions {
  /** In place of `ESBUILD_OPTIONS.external` (the bench leaves `@aws-sdk/*` external to compare). */
  external?: string[];
  onMetafile?: (m: Metafile) => void;
  /** Copied beside each bundle, as the stack ships it. */
  configFile?: string;
  /** Filled in with what the SDK plugins changed. */
  sdkStats?: SdkTransformStats;
  /** Build without the SDK plugins (the bench measures what they save). */
  withoutSdkPlugins?: boolean;
}

/** One esbuild run for all the steps (no code splitting: each output stands alone, as in Lambda). */
export async function bundleHandlers(projectRoot: string, steps: readonly string[], outdir: string, opts: BundleOptions = {}): Promise<Bundle[]> {
  const nominal = join(projectRoot, NOMINAL_OUTDIR);
  const entryPoints = Object.fromEntries(steps.map((step) => [`${step}/index`, join(projectRoot, 'lambdas', step, 'handler.ts')]));
  const result = await build({
    ...ESBUILD_OPTIONS,
    mainFields: [...ESBUILD_OPTIONS.mainFields],
    external: opts.external ?? [...ESBUILD_OPTIONS.external],
    plugins: opts.withoutSdkPlugins ? [] : sdkPlugins(opts.sdkStats),
    entryPoints,
    outdir: nominal,
    write: false,
    absWorkingDir: projectRoot,
    metafile: opts.onMetafile !== undefined,
  });
  for (const out of result.outputFiles) {
    const file = join(outdir, relative(nominal, out.path));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, out.contents);
  }
  if (opts.onMetafile && result.metafile) opts.onMetafile(result.metafile);
  return steps.map((step) => {
    const file = join(outdir, step, 'index.mjs');
    if (opts.configFile !== undefined) copyFileSync(opts.configFile, join(outdir, step, CONFIG_FILE));
    return { step, file, bytes: statSync(file).size, mapBytes: statSync(`${file}.map`).size };
  });
}

/**
 * `bundleHandlers` for a caller that cannot wait for a promise (a CDK construct): the same
 * build, run in a child `node` (esbuild takes plugins only in its asynchronous API), which
 * this call waits for. Its failure (a type esbuild cannot parse, an import it cannot
 * resolve) throws here with esbuild's messages.
 */
export function bundleHandlersSync(projectRoot: string, steps: readonly string[], outdir: string): Bundle[] {
  const tsx = pathToFileURL(createRequire(join(projectRoot, 'package.json')).resolve('tsx')).href;
  const child = spawnSync(process.execPath, ['--import', tsx, join(projectRoot, 'infra', 'bundle-handlers.ts'), outdir, ...steps], {
    cwd: projectRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = child.stdout?.split('\n').find((l) => l.startsWith('@@'));
  if (child.status !== 0 || line === undefined) {
    throw new Error(`bundling the tagflow handlers failed (${child.error?.message ?? `exit ${child.status}`}):\n${child.stderr ?? ''}${child.stdout ?? ''}`.trim());
  }
  // esbuild's warnings, if any.
  if (child.stderr) process.stderr.write(child.stderr);
  return JSON.parse(line.slice(2)) as Bundle[];
}

/** Dummy values for everything a tagflow function reads from its environment. */
export const DUMMY_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'dummy',
  LEDGER_TABLE: 'tagflow-ledger',
  ARTIFACTS_BUCKET: 'tagflow-artifacts',
  ENVIRONMENTS_BUCKET: 'tagflow-environments',
  LOCK_TTL_MS: '1800000',
} as const;

export interface ImportResult {
  ok: boolean;
  /** Time to import the module (load, parse, evaluate), measured inside the child. */
  importMs?: number;
  /** What `handler` is (`function` when all is well). */
  handlerType?: string;
  /** The result of `invoke`, when asked for, as JSON. */
  invoked?: unknown;
  /** The thrown error's `name` (what an ASL Catch would match). */
  errorName?: string;
  error?: string;
}

/**
 * Imports a bundle in a fresh `node` process (nothing cached, nothing shared with the caller)
 * and optionally calls its handler once with `invoke` as the event.
 */
export function importInFreshNode(file: string, env: Record<string, string>, opts: { invoke?: unknown; nodeOptions?: string } = {}): Promise<ImportResult> {
  const script = `
    const t0 = performance.now();
    let out;
    try {
      const mod = await import(${JSON.stringify(pathToFileURL(file).href)});
      out = { ok: true, importMs: performance.now() - t0, handlerType: typeof mod.handler };
      const event = process.env.TAGFLOW_BENCH_INVOKE;
      if (event !== undefined) out.invoked = await mod.handler(JSON.parse(event), {});
    } catch (err) {
      out = { ok: false, errorName: err && err.name, error: (err && err.stack) || String(err) };
    }
    process.stdout.write('\\n@@' + JSON.stringify(out));
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        ...env,
        ...(opts.nodeOptions ? { NODE_OPTIONS: opts.nodeOptions } : {}),
        ...(opts.invoke !== undefined ? { TAGFLOW_BENCH_INVOKE: JSON.stringify(opts.invoke) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('@@'));
      if (!line) return resolve({ ok: false, error: `node exited ${code} without a result: ${stderr.trim().slice(-2000)}` });
      resolve(JSON.parse(line.slice(2)) as ImportResult);
    });
  });
}

// `node --import tsx infra/bundle-handlers.ts OUTDIR STEP…`: what `bundleHandlersSync` runs.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [outdir, ...steps] = process.argv.slice(2);
  if (outdir === undefined || steps.length === 0) {
    console.error('usage: node --import tsx infra/bundle-handlers.ts OUTDIR STEP…');
    process.exit(2);
  }
  bundleHandlers(fileURLToPath(new URL('..', import.meta.url)), steps, resolve(outdir)).then(
    (bundles) => process.stdout.write(`\n@@${JSON.stringify(bundles)}\n`),
    (err: unknown) => {
      // esbuild has printed its messages already.
      console.error((err as Error).message);
      process.exitCode = 1;
    },
  );
}
