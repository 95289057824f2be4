import { spawn } from 'node:child_process';
import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { CONFIG_FILE } from '../lambdas/adapters/aws/config.js';
import { ESBUILD_OPTIONS } from './bundling.js';

/**
 * Bundles step handlers with esbuild directly, with the construct's options: for the bundle
 * test and `bench/bundles.ts` (the CDK runs the same esbuild when it synthesises for real).
 */

export interface Bundle {
  step: string;
  /** `<outdir>/<step>/index.mjs` */
  file: string;
  bytes: number;
  mapBytes: number;
}

/** One esbuild run for all the steps (no code splitting: each output stands alone, as in Lambda). */
export async function bundleHandlers(
  projectRoot: string,
  steps: readonly string[],
  outdir: string,
  opts: { external?: string[]; onMetafile?: (m: Metafile) => void; /** Copied beside each bundle, as the stack ships it. */ configFile?: string } = {},
): Promise<Bundle[]> {
  const entryPoints = Object.fromEntries(steps.map((step) => [`${step}/index`, join(projectRoot, 'lambdas', step, 'handler.ts')]));
  const result = await build({
    ...ESBUILD_OPTIONS,
    mainFields: [...ESBUILD_OPTIONS.mainFields],
    external: opts.external ?? [...ESBUILD_OPTIONS.external],
    entryPoints,
    outdir,
    absWorkingDir: projectRoot,
    metafile: opts.onMetafile !== undefined,
  });
  if (opts.onMetafile && result.metafile) opts.onMetafile(result.metafile);
  return steps.map((step) => {
    const file = join(outdir, step, 'index.mjs');
    if (opts.configFile !== undefined) copyFileSync(opts.configFile, join(outdir, step, CONFIG_FILE));
    return { step, file, bytes: statSync(file).size, mapBytes: statSync(`${file}.map`).size };
  });
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
