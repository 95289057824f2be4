import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_NAMES } from '../../lambdas/steps.js';
import { PROJECT_ROOT } from '../../infra/app.js';
import { bundleHandlers, DUMMY_ENV, importInFreshNode, type Bundle } from '../../infra/bundle-handlers.js';
import { ESBUILD_OPTIONS } from '../../infra/bundling.js';

/**
 * Every step handler, bundled once with the construct's esbuild options (infra/bundling.ts),
 * imported in a fresh `node` process from a directory with no node_modules: a bundle that
 * leans on anything outside itself, or breaks under ESM (a `require` of a builtin, a
 * renamed error class), fails here rather than in Lambda.
 */

const CONFIG_JSON = JSON.stringify(JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', 'tagflow.config.json'), 'utf8')));
const ENV = { ...DUMMY_ENV, TAGFLOW_CONFIG: CONFIG_JSON };

/** Every Lambda the stack deploys: the steps, the GitHub webhook receiver and the approval function. */
const HANDLERS = [...STEP_NAMES, 'github-webhook', 'decide-approval'];

let outdir: string;
let bundles: Bundle[];
let metafile: Metafile | undefined;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'tagflow-bundles-'));
  bundles = await bundleHandlers(PROJECT_ROOT, HANDLERS, outdir, { onMetafile: (m) => (metafile = m) });
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('step handler bundles', () => {
  it('use the options the construct uses', () => {
    expect(ESBUILD_OPTIONS).toMatchObject({ format: 'esm', platform: 'node', target: 'node22', minify: true, keepNames: true, bundle: true });
    expect(bundles.map((b) => b.step)).toEqual(HANDLERS);
  });

  it('each builds, stands alone, and imports in a fresh node with a handler function', { timeout: 120_000 }, async () => {
    const results = await Promise.all(bundles.map(async (b) => ({ step: b.step, ...(await importInFreshNode(b.file, ENV, { nodeOptions: '--enable-source-maps' })) })));
    for (const r of results) {
      expect(r.error, r.step).toBeUndefined();
      expect(r.ok, r.step).toBe(true);
      expect(r.handlerType, r.step).toBe('function');
    }
    for (const b of bundles) {
      // The AWS SDK is bundled (see infra/bundling.ts): nothing imports it from outside.
      expect(readFileSync(b.file, 'utf8'), b.step).not.toMatch(/from\s*["']@aws-sdk\//);
    }
  });

  it('the normalise bundle runs a manual release input through its middleware and the config', { timeout: 60_000 }, async () => {
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
