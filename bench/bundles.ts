/**
 * Bundle size and cold import time of every handler the stack deploys, bundled by the build
 * the stack runs (infra/bundle-handlers.ts: one esbuild build, the options of
 * infra/bundling.ts, the SDK plugins). Writes its section of bench/RESULTS.md.
 *
 *   npx tsx bench/bundles.ts [--runs 5]
 *
 * "Init" is the time to import the bundle (load, parse, evaluate its module graph) in a fresh
 * `node` process, measured inside that process: the part of a Lambda cold start our code
 * controls. Also measured, to back the choices in infra/bundling.ts: the same handlers with
 * `@aws-sdk/*` left external (resolved from node_modules, as the runtime's SDK would be), with
 * `--enable-source-maps` (which the functions run with), and built without the SDK plugins
 * (infra/literal-schema-keys.ts, infra/static-event-streams.ts), to show what they are worth.
 * Run it on a clean install (`npm ci`): it says so when node_modules holds SDK files already
 * transformed (as the old postinstall patch left them), where that column means nothing.
 *
 * The runs go round all handlers and variants in turn, so that a slow spell of this shared
 * machine falls on every row alike. Beside the times, the instructions the import executes,
 * counted by valgrind's callgrind (when installed): the same count whatever else the machine
 * does (V8 runs with `--predictable` for it), so two versions of a bundle compare exactly where
 * milliseconds drift.
 */
import { execSync, spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { version as esbuildVersion, type Metafile } from 'esbuild';
import { bundleHandlers, DUMMY_ENV, HANDLERS, importInFreshNode, type Bundle, type SdkTransformStats } from '../infra/bundle-handlers.js';
import { BUNDLE_TARGET, EXTERNAL_MODULES } from '../infra/bundling.js';
import { noTransforms } from '../infra/literal-schema-keys.js';
import { writeResultsSection } from './results.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const START = '<!-- bench/bundles.ts: start -->';
const END = '<!-- bench/bundles.ts: end -->';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const ms = (x: number) => x.toFixed(0);

/** One measured column: a set of bundles imported with some node options. */
interface Column {
  bundles: Bundle[];
  nodeOptions?: string;
}

/**
 * Import times, medians of RUNS rounds; each round imports every bundle of every column once,
 * handler by handler, so that a slow spell of the machine falls on all rows and columns alike.
 */
async function initTimes(columns: Column[], env: Record<string, string>): Promise<Map<Bundle, number>[]> {
  const times = columns.map((c) => new Map<Bundle, number[]>(c.bundles.map((b) => [b, []])));
  for (let i = 0; i < RUNS; i++) {
    for (let row = 0; row < columns[0]!.bundles.length; row++) {
      for (const [k, column] of columns.entries()) {
        const bundle = column.bundles[row]!;
        const r = await importInFreshNode(bundle.file, env, column.nodeOptions ? { nodeOptions: column.nodeOptions } : {});
        if (!r.ok || r.importMs === undefined) throw new Error(`${bundle.step}: import failed: ${r.error}`);
        times[k]!.get(bundle)!.push(r.importMs);
      }
    }
    process.stdout.write(`round ${i + 1}/${RUNS}\r`);
  }
  return times.map((t) => new Map([...t].map(([b, xs]) => [b, median(xs)])));
}

const hasValgrind = spawnSync('valgrind', ['--version']).status === 0;

/** Instructions a whole `node` process executes to import `target` (and start and exit), counted by callgrind. */
function processInstructions(target: string, env: Record<string, string>): number {
  // --predictable: V8 on one thread with fixed seeds, so the same bundle counts the same every time.
  const out = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--predictable', '--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(target).href)})`], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  const refs = /refs:\s+([\d,]+)/.exec(out.stderr)?.[1];
  if (out.status !== 0 || !refs) throw new Error(`callgrind on ${target} failed: ${out.stderr.slice(-500)}`);
  return Number(refs.replaceAll(',', ''));
}

/** The issue's goal, under 500 KB and under 100 ms init each, against this run's figures. */
function goalLine(bundles: Bundle[], init: Map<Bundle, number>): string {
  const largest = bundles.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const slowest = bundles.reduce((a, b) => (init.get(b)! > init.get(a)! ? b : a));
  const small = bundles.filter((b) => b.bytes < 500 * 1024).length;
  const fast = bundles.filter((b) => init.get(b)! < 100).length;
  return `Goal, under 500 KB and under 100 ms init each: ${small} of ${bundles.length} under 500 KB (largest ${largest.step}, ${kb(largest.bytes)} KB); ${fast} of ${bundles.length} under 100 ms (slowest ${slowest.step}, ${ms(init.get(slowest)!)} ms).`;
}

/** The packages that weigh most in one output, e.g. `zod 460.3, @smithy/core 152.3, …`. */
function largestPackages(metafile: Metafile, outputSuffix: string, top = 6): string {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(outputSuffix))?.[1];
  if (!output) return 'n/a';
  const by = new Map<string, number>();
  for (const [path, input] of Object.entries(output.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split('/').slice(0, 2).join('/');
    by.set(pkg, (by.get(pkg) ?? 0) + input.bytesInOutput);
  }
  return [...by].sort((a, b) => b[1] - a[1]).slice(0, top).map(([pkg, bytes]) => `${pkg} ${kb(bytes)}`).join(', ');
}

async function main() {
  const env = { ...DUMMY_ENV };
  const work = mkdtempSync(join(tmpdir(), 'tagflow-bench-'));
  try {
    const t0 = performance.now();
    let metafile: Metafile | undefined;
    const stats: SdkTransformStats = { literalSchemaKeys: noTransforms(), staticEventStreams: noTransforms() };
    const bundled = await bundleHandlers(ROOT, HANDLERS, join(work, 'bundled'), { onMetafile: (m) => (metafile = m), sdkStats: stats });
    const buildMs = performance.now() - t0;
    const plain = await bundleHandlers(ROOT, HANDLERS, join(work, 'plain'), { withoutSdkPlugins: true });
    // The external variant imports @aws-sdk/* from node_modules, found through a link beside it.
    mkdirSync(join(work, 'external'));
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'external', 'node_modules'), 'dir');
    const external = await bundleHandlers(ROOT, HANDLERS, join(work, 'external'), { external: ['@aws-sdk/*'] });

    const empty = join(work, 'empty.mjs');
    writeFileSync(empty, 'export {};\n');
    // What any import costs (node's start, its ES module loader, exit), taken off each count.
    const baseline = hasValgrind ? processInstructions(empty, env) : 0;
    const [init, initMaps, initExternal, initPlain] = (await initTimes(
      [{ bundles: bundled }, { bundles: bundled, nodeOptions: '--enable-source-maps' }, { bundles: external }, { bundles: plain }],
      env,
    )) as [Map<Bundle, number>, Map<Bundle, number>, Map<Bundle, number>, Map<Bundle, number>];

    const rows: string[] = [];
    const instructionsOf = new Map<Bundle, number>();
    const totals = { bundled: 0, external: 0, plain: 0 };
    for (const [i, b] of bundled.entries()) {
      const e = external[i]!;
      const p = plain[i]!;
      const instructions = hasValgrind ? processInstructions(b.file, env) - baseline : undefined;
      if (instructions !== undefined) instructionsOf.set(b, instructions);
      totals.bundled += init.get(b)!;
      totals.external += initExternal.get(e)!;
      totals.plain += initPlain.get(p)!;
      const mi = instructions === undefined ? 'n/a' : (instructions / 1e6).toFixed(0);
      rows.push(`| ${b.step} | ${kb(b.bytes)} | ${kb(b.mapBytes)} | ${ms(init.get(b)!)} | ${ms(initMaps.get(b)!)} | ${mi} | ${kb(e.bytes)} | ${ms(initExternal.get(e)!)} | ${kb(p.bytes)} | ${ms(initPlain.get(p)!)} |`);
      process.stdout.write(`${rows.at(-1)}\n`);
    }
    // What the plugins are worth in instructions, on the largest bundle (callgrind is slow: that one only).
    const biggest = bundled.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const biggestPlain = plain[bundled.indexOf(biggest)]!;
    const mInstructions = (n: number | undefined) => (n === undefined ? 'n/a' : (n / 1e6).toFixed(0));
    const plainInstructions = hasValgrind ? processInstructions(biggestPlain.file, env) - baseline : undefined;
    const transformed = stats.literalSchemaKeys.changed + stats.staticEventStreams.changed > 0;

    const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
    const load = loadavg().map((l) => l.toFixed(1)).join(', ');
    const largest = metafile ? largestPackages(metafile, 'deploy/index.mjs') : 'n/a';
    const nproc = execSync('nproc').toString().trim();
    const section = [
      START,
      '## Handler bundles',
      '',
      `- date: ${new Date().toISOString()}`,
      `- machine: ${nproc} CPUs (\`nproc\`), ${cpu}, ${process.platform}/${process.arch}; Node ${process.version}; load average at the end ${load} (a shared machine: rows vary by tens of ms)`,
      `- command: \`npx tsx bench/bundles.ts${runsArg > 0 ? ` --runs ${RUNS}` : ''}\` (esbuild ${esbuildVersion}; the one build of all ${HANDLERS.length} handlers, as the stack runs it, took ${ms(buildMs)} ms)`,
      `- bundle: the stack's build (infra/bundle-handlers.ts), with the options of infra/bundling.ts: ESM, minify, keepNames, target ${BUNDLE_TARGET}, external ${JSON.stringify(EXTERNAL_MODULES)}`,
      `- SDK plugins, applied in memory as esbuild loads the files (node_modules untouched): literal schema keys made ${stats.literalSchemaKeys.replaced} computed keys literal in ${stats.literalSchemaKeys.changed} of the ${stats.literalSchemaKeys.loaded} schema modules loaded; static event streams made ${stats.staticEventStreams.replaced} dynamic import static in ${stats.staticEventStreams.changed} of the ${stats.staticEventStreams.loaded} protocol modules loaded${transformed ? '' : ' (**nothing to transform: node_modules holds SDK files patched in place by an old install, so the "no SDK plugins" columns mean nothing; run `npm ci` and measure again**)'}`,
      `- source maps: linked (each bundle ends with \`//# sourceMappingURL=index.mjs.map\`), so the \`--enable-source-maps\` column (the functions' NODE_OPTIONS) loads and parses them`,
      `- init: importing the bundle in a fresh \`node\` process, measured inside it, median of ${RUNS} rounds (each round imports every bundle of every column in turn, handler by handler); handlers build their SDK clients on first use, so this is module load and evaluation only`,
      `- instructions: executed by a fresh \`node\` importing the bundle, less one importing an empty module, counted by valgrind's callgrind with V8's \`--predictable\` (one thread, fixed seeds)${hasValgrind ? '' : ' (valgrind is not installed here: n/a)'}; the same count on every run whatever the load, where times drift with it`,
      '- Lambda runs nodejs22.x on arm64 (Graviton) at 512 MB, a fraction of a vCPU: absolute times there are higher; compare the columns',
      '',
      '| handler | bundle KB | map KB | init ms | init ms, --enable-source-maps | import, M instructions | KB, SDK external | init ms, SDK external | KB, no SDK plugins | init ms, no SDK plugins |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      goalLine(bundled, init),
      '',
      `Sum of medians: SDK bundled ${ms(totals.bundled)} ms, SDK external (from node_modules) ${ms(totals.external)} ms, without the SDK plugins ${ms(totals.plain)} ms.`,
      '',
      `Without the SDK plugins: ${goalLine(plain, initPlain).replace(/^Goal, under 500 KB and under 100 ms init each: /, '')} The largest bundle (${biggest.step}) would be ${kb(biggestPlain.bytes)} KB instead of ${kb(biggest.bytes)} KB, its import ${mInstructions(plainInstructions)} M instructions instead of ${mInstructions(instructionsOf.get(biggest))} M.`,
      '',
      `Largest parts of one bundle (deploy, KB in the minified output): ${largest}. Each handler imports only the adapters of the ports its step uses (\`lambdas/adapters/aws/\`), so sizes differ by the SDK clients they hold.`,
      END,
    ].join('\n');

    writeResultsSection(RESULTS, START, END, section);
    console.log(`\nwrote ${RESULTS}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
