import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_FILE } from '../../lambdas/adapters/aws/config.js';
import { STEP_NAMES } from '../../lambdas/steps.js';
import { loadPipelineConfig, PROJECT_ROOT } from '../../infra/app.js';
import { bundleHandlers, DUMMY_ENV, HANDLERS, importInFreshNode, type Bundle, type SdkTransformStats } from '../../infra/bundle-handlers.js';
import { ESBUILD_OPTIONS } from '../../infra/bundling.js';
import { noTransforms } from '../../infra/literal-schema-keys.js';
import { shippedConfigFile } from '../../infra/shipped-config.js';
import { StepFunction } from '../../infra/step-function.js';

/**
 * Every handler the stack deploys, bundled by the build the stack runs (infra/bundle-handlers.ts:
 * one esbuild build, the options of infra/bundling.ts, the SDK plugins), imported in a fresh
 * `node` process from a directory with no node_modules: a bundle that leans on anything
 * outside itself, or breaks under ESM (a `require` of a builtin, a renamed error class), fails
 * here rather than in Lambda.
 */

const EXAMPLE_CONFIG = join(PROJECT_ROOT, 'examples', 'tagflow.config.json');
const ENV = { ...DUMMY_ENV };

let outdir: string;
let bundles: Bundle[];
let metafile: Metafile | undefined;
const sdkStats: SdkTransformStats = { literalSchemaKeys: noTransforms(), staticEventStreams: noTransforms() };

/** The SDK files the plugins transform, as found on disk (before the build). */
const sdkFiles = () => {
  const nm = join(PROJECT_ROOT, 'node_modules');
  const schemas = readdirSync(join(nm, '@aws-sdk')).filter((d) => d.startsWith('client-')).map((c) => join(nm, '@aws-sdk', c, 'dist-es', 'schemas', 'schemas_0.js'));
  const protocols = join(nm, '@smithy', 'core', 'dist-es', 'submodules', 'protocols');
  return [...schemas, ...readdirSync(protocols).filter((f) => f.endsWith('.js')).map((f) => join(protocols, f))];
};
const hashes = (files: string[]) => Object.fromEntries(files.map((f) => [f, createHash('sha256').update(readFileSync(f)).digest('hex')]));
let sdkBefore: Record<string, string>;
let buildStartedMs: number;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'tagflow-bundles-'));
  sdkBefore = hashes(sdkFiles());
  buildStartedMs = Date.now();
  bundles = await bundleHandlers(PROJECT_ROOT, HANDLERS, outdir, { onMetafile: (m) => (metafile = m), sdkStats, configFile: shippedConfigFile(loadPipelineConfig(EXAMPLE_CONFIG).config) });
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('step handler bundles', () => {
  it('use the options the construct uses, for every step and the two other functions', () => {
    expect(ESBUILD_OPTIONS).toMatchObject({ format: 'esm', platform: 'node', target: 'node22', minify: true, keepNames: true, bundle: true });
    expect(HANDLERS).toEqual([...STEP_NAMES, 'github-webhook', 'decide-approval', 'reconcile']);
    expect(bundles.map((b) => b.step)).toEqual(HANDLERS);
  });

  it('transform the SDK in memory: node_modules is byte for byte what it was', () => {
    // The plugins' filters found the files they transform (infra/literal-schema-keys.ts, infra/static-event-streams.ts).
    expect(sdkStats.literalSchemaKeys.loaded).toBeGreaterThanOrEqual(3);
    expect(sdkStats.staticEventStreams.loaded).toBeGreaterThanOrEqual(1);
    expect(hashes(sdkFiles())).toEqual(sdkBefore);
    // Nor was any other file the bundles hold written to.
    const written = Object.keys(metafile!.inputs).filter((input) => input.includes('node_modules/') && statSync(join(PROJECT_ROOT, input)).mtimeMs >= buildStartedMs);
    expect(written).toEqual([]);
  });

  it('point at their source maps, for --enable-source-maps', () => {
    for (const b of bundles) expect(readFileSync(b.file, 'utf8').endsWith('\n//# sourceMappingURL=index.mjs.map\n'), b.step).toBe(true);
  });

  it('name their sources relative to the project, wherever the build is written', () => {
    const map = JSON.parse(readFileSync(`${bundles[0]!.file}.map`, 'utf8')) as { sources: string[] };
    expect(map.sources).toContain(`../../lambdas/${bundles[0]!.step}/handler.ts`);
    expect(map.sources.filter((s) => !s.startsWith('../../lambdas/') && !s.startsWith('../../node_modules/'))).toEqual([]);
  });

  it('each builds, stands alone, and imports in a fresh node with a handler function', { timeout: 120_000 }, async () => {
    const results = await Promise.all(bundles.map(async (b) => ({ step: b.step, ...(await importInFreshNode(b.file, ENV, { nodeOptions: '--enable-source-maps' })) })));
    for (const r of results) {
      expect(r.error, r.step).toBeUndefined();
      expect(r.ok, r.step).toBe(true);
      expect(r.handlerType, r.step).toBe('function');
    }
    for (const b of bundles) {
      const code = readFileSync(b.file, 'utf8');
      // The AWS SDK is bundled (see infra/bundling.ts): nothing imports it from outside.
      expect(code, b.step).not.toMatch(/from\s*["']@aws-sdk\//);
      // Nor the process module, whose namespace opens stdin, stdout and stderr (lambdas/adapters/aws/node-process.ts).
      expect(code, b.step).not.toMatch(/from\s*["'](node:)?process["']/);
    }
  });

  it('the normalise bundle runs a manual release input through its middleware and the config beside it', { timeout: 60_000 }, async () => {
    const normalise = bundles.find((b) => b.step === 'normalise')!;
    const ok = await importInFreshNode(normalise.file, ENV, { invoke: { input: { service: 'demo', version: 'v1.2.0' }, executionId: 'arn:aws:states:us-east-1:000000000000:execution:release:x' } });
    expect(ok.error).toBeUndefined();
    expect(ok.invoked).toMatchObject({ action: 'release' });

    // A typo: the error keeps its literal name through minification (the ASL's Catch matches on it).
    const typo = await importInFreshNode(normalise.file, ENV, { invoke: { input: { servce: 'demo', version: 'v1.2.0' }, executionId: 'x' } });
    expect(typo.ok).toBe(false);
    expect(typo.errorName).toBe('InvalidInput');
    expect(typo.error).toMatch(/servce/);
  });

  it('a function without its config file says which file it looked for', { timeout: 60_000 }, async () => {
    const normalise = bundles.find((b) => b.step === 'normalise')!;
    const alone = join(outdir, 'without-config');
    mkdirSync(alone);
    copyFileSync(normalise.file, join(alone, 'index.mjs'));
    const r = await importInFreshNode(join(alone, 'index.mjs'), ENV, { invoke: { input: { service: 'demo', version: 'v1.2.0' }, executionId: 'x' } });
    expect(r.ok).toBe(false);
    expect(r.error).toContain(`cannot read the pipeline config ${join(alone, CONFIG_FILE)}`);
  });

  it('hold the schemas of the SDK operations their steps call, not of every operation (infra/literal-schema-keys.ts)', () => {
    const rollback = readFileSync(bundles.find((b) => b.step === 'rollback')!.file, 'utf8');
    // Called by the rollback: the alias move and the promoted manifest's read.
    for (const used of ['"UpdateAlias"', '"GetObject"']) expect(rollback, used).toContain(used);
    // Never called by any step.
    for (const unused of ['ListDurableExecutionsByFunction', 'PutBucketInventoryConfiguration', 'SelectObjectContent']) expect(rollback, unused).not.toContain(unused);
  });

  it('turn no dynamic import into a lazily initialised module (infra/static-event-streams.ts)', () => {
    // esbuild inlines a bundled `import()` as this, and wraps what it reaches in initialisers that are parsed twice at a cold start.
    for (const b of bundles) expect(readFileSync(b.file, 'utf8'), b.step).not.toContain('Promise.resolve().then(()=>(');
  });

  it('load no validator where they only read the config the stack validated', () => {
    const zodIn = (step: string) => Object.keys(Object.entries(metafile!.outputs).find(([f]) => f.endsWith(`/${step}/index.mjs`))![1].inputs).filter((i) => i.includes('node_modules/zod/'));
    for (const step of ['check-policy', 'request-approval', 'github-webhook', 'judge-canary', 'prepare-rollback']) expect(zodIn(step), step).toEqual([]);
    // These validate input from people (a manual release, a rollback request, an approval).
    for (const step of ['normalise', 'normalise-rollback', 'decide-approval']) expect(zodIn(step).length, step).toBeGreaterThan(0);
  });

  it('hold none of the SDK default credential chain but its environment link (infra/bundling.ts ALIASES)', () => {
    const chain = /@aws-sdk\/(credential-provider-(node|ini|sso|process|web-identity|http|login)|nested-clients|token-providers)\/|@smithy\/credential-provider-imds\//;
    for (const [file, output] of Object.entries(metafile!.outputs)) {
      expect(Object.keys(output.inputs).filter((input) => chain.test(input)), file).toEqual([]);
    }
  });

  it('sign SDK calls with the credentials Lambda puts in the environment, and only with those', { timeout: 60_000 }, async () => {
    // A stand-in for DynamoDB on loopback: it records the signature and answers with an error the SDK does not retry.
    const authorization: string[] = [];
    const dynamodb = createServer((req, res) => {
      authorization.push(String(req.headers.authorization));
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'com.amazon.coral.validate#ValidationException', message: 'stand-in' }));
    });
    await new Promise<void>((resolve) => dynamodb.listen(0, '127.0.0.1', resolve));
    try {
      const env = { ...ENV, AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(dynamodb.address() as AddressInfo).port}` };
      const releaseLock = bundles.find((b) => b.step === 'release-lock')!;
      const event = { service: 'demo', environment: 'dev', executionId: 'x' };

      const signed = await importInFreshNode(releaseLock.file, env, { invoke: event });
      expect(signed.errorName, signed.error).toBe('ValidationException');
      expect(authorization).toEqual([expect.stringContaining(`Credential=${ENV.AWS_ACCESS_KEY_ID}/`)]);

      const { AWS_ACCESS_KEY_ID: _, ...withoutKey } = env;
      const unsigned = await importInFreshNode(releaseLock.file, withoutKey, { invoke: event });
      expect(unsigned.error).toMatch(/Unable to find environment variable credentials/);
      expect(authorization).toHaveLength(1);
    } finally {
      dynamodb.close();
    }
  });
});

describe('a function bundled by the stack', () => {
  it('ships the config file in its code, where its handler reads it', { timeout: 120_000 }, async () => {
    // A config past the 4 KB Lambda allows environment variables: 40 services.
    const base = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));
    const [name, service] = Object.entries(base.services)[0]!;
    // Each copy fed by its own repositories (two services fed by one are refused).
    const own = (i: number) => (i === 0 ? service : { ...(service as object), triggers: Object.fromEntries(Object.entries((service as { triggers?: Record<string, string> }).triggers ?? {}).map(([k, v]) => [k, `${v}-${i}`])) });
    const big = { ...base, services: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [i === 0 ? name : `${name}-${i}`, own(i)])) };
    const work = mkdtempSync(join(tmpdir(), 'tagflow-cdk-bundle-'));
    try {
      const written = join(work, 'big config.json');
      writeFileSync(written, JSON.stringify(big, null, 2));
      expect(statSync(written).size).toBeGreaterThan(4096);
      const configFile = shippedConfigFile(loadPipelineConfig(written).config);

      const app = new App({ outdir: join(work, 'cdk.out') });
      const stack = new Stack(app, 'Bundled');
      const fn = new StepFunction(stack, 'NormaliseFn', { step: 'normalise', projectRoot: PROJECT_ROOT, timeout: Duration.seconds(10), environment: {}, configFile });
      const assembly = app.synth();

      const code = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as CfnElement)].Properties.Code;
      const assetDir = join(assembly.directory, `asset.${String(code.S3Key).replace(/\.zip$/, '')}`);
      expect(readdirSync(assetDir).sort()).toEqual(['index.mjs', 'index.mjs.map', CONFIG_FILE].sort());
      // The validated config with its defaults filled in, as JSON.
      const shipped = JSON.parse(readFileSync(join(assetDir, CONFIG_FILE), 'utf8'));
      expect(shipped).toEqual(JSON.parse(JSON.stringify(loadPipelineConfig(written).config)));
      expect(shipped.services[`${name}-39`].environments[0].smoke).toBeDefined();

      const ok = await importInFreshNode(join(assetDir, 'index.mjs'), ENV, { invoke: { input: { service: `${name}-39`, version: 'v1.2.0' }, executionId: 'x' } });
      expect(ok.error).toBeUndefined();
      expect(ok.invoked).toMatchObject({ action: 'release', release: { service: `${name}-39` } });
      // What the stack ships is what the build gives the tests.
      const built = bundles.find((b) => b.step === 'normalise')!;
      expect(readFileSync(join(assetDir, 'index.mjs'))).toEqual(readFileSync(built.file));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('has a code hash of its files\' contents: a changed config redeploys only the functions that read it', { timeout: 120_000 }, () => {
    const base = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));
    const work = mkdtempSync(join(tmpdir(), 'tagflow-cdk-hash-'));
    try {
      const other = join(work, 'other.json');
      writeFileSync(other, JSON.stringify({ ...base, services: Object.fromEntries(Object.entries(base.services).map(([n, svc]) => [`${n}-renamed`, svc])) }));
      const hashesWith = (config: string, context: Record<string, unknown> = {}) => {
        const app = new App({ outdir: join(work, `cdk.out-${Math.random().toString(36).slice(2)}`), context });
        const stack = new Stack(app, 'Hashes');
        const configFile = shippedConfigFile(loadPipelineConfig(config).config);
        const fns = {
          normalise: new StepFunction(stack, 'NormaliseFn', { step: 'normalise', projectRoot: PROJECT_ROOT, timeout: Duration.seconds(10), environment: {}, configFile }),
          releaseLock: new StepFunction(stack, 'ReleaseLockFn', { step: 'release-lock', projectRoot: PROJECT_ROOT, timeout: Duration.seconds(10), environment: {} }),
        };
        const resources = Template.fromStack(stack).toJSON().Resources;
        return Object.fromEntries(Object.entries(fns).map(([k, fn]) => [k, String(resources[stack.getLogicalId(fn.node.defaultChild as CfnElement)].Properties.Code.S3Key)]));
      };
      const first = hashesWith(EXAMPLE_CONFIG);
      expect(hashesWith(EXAMPLE_CONFIG)).toEqual(first);
      const changed = hashesWith(other);
      expect(changed.normalise).not.toBe(first.normalise);
      expect(changed.releaseLock).toBe(first.releaseLock);
      expect(first.normalise).not.toBe(first.releaseLock);

      // Synthesised without bundling (as the stack test does): a stub that says so, beside the config; no build runs.
      const app = new App({ outdir: join(work, 'cdk.out-unbundled'), context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new Stack(app, 'Unbundled');
      const fn = new StepFunction(stack, 'NormaliseFn', { step: 'normalise', projectRoot: PROJECT_ROOT, timeout: Duration.seconds(10), environment: {}, configFile: shippedConfigFile(loadPipelineConfig(EXAMPLE_CONFIG).config) });
      const key = String(Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as CfnElement)].Properties.Code.S3Key);
      const assetDir = join(app.synth().directory, `asset.${key.replace(/\.zip$/, '')}`);
      expect(readdirSync(assetDir).sort()).toEqual(['index.mjs', CONFIG_FILE].sort());
      expect(readFileSync(join(assetDir, 'index.mjs'), 'utf8')).toMatch(/^throw new Error\("tagflow normalise: synthesised without bundling/);
      expect(key).not.toBe(`${first.normalise}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
