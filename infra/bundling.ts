/**
 * How every step handler is bundled: the esbuild options of the one build of all handlers
 * (`bundle-handlers.ts`, which adds the SDK plugins), whose output the CDK construct
 * (`step-function.ts`) ships and the bundle test and `bench/bundles.ts` import, so what the
 * tests import is what Lambda runs. Plain data, no aws-cdk-lib import: the bench and the test
 * load it without pulling in the CDK.
 */

/** Lambda runs `nodejs22.x`; esbuild lowers syntax for exactly that. */
export const BUNDLE_TARGET = 'node22';

/**
 * The AWS SDK v3 is bundled, not left to the runtime (CDK's default marks `@aws-sdk/*`
 * external because `nodejs22.x` ships an SDK v3). Why bundled:
 *  - the deployed code runs the SDK version the tests ran (package.json pins 3.1162.0 for
 *    every client); the runtime's copy is whatever version AWS ships, and changes under us when
 *    AWS updates the runtime;
 *  - each bundle then imports on its own (the bundle test proves it in a fresh `node`);
 *  - `bench/bundles.ts` measures both ways (bench/RESULTS.md): bundled and minified, a handler
 *    is ~1.07 MB instead of ~0.49 MB, but imports 2–3× faster than one loading the SDK's
 *    unminified ES modules from node_modules, file by file (as the runtime's copy would be);
 *  - left external, the `@smithy/*` packages would still be bundled, mixing our versions with
 *    the runtime's SDK.
 * Set to `['@aws-sdk/*']` to use the runtime's SDK instead.
 */
export const EXTERNAL_MODULES: string[] = [];

/**
 * ESM output has no `require`; a CommonJS dependency inside the bundle that requires a Node
 * builtin (`require("buffer")`) would otherwise throw "Dynamic require … is not supported"
 * when first called, possibly long after the import succeeded. No dependency needs it today
 * (the bundles contain no such call); it is there so that adding one cannot break at run time.
 */
export const REQUIRE_SHIM_BANNER =
  "import { createRequire as __tagflowCreateRequire } from 'node:module'; const require = __tagflowCreateRequire(import.meta.url);";

/**
 * Modules the bundles take from our code instead of the package the import names. Paths are
 * relative to the project root, the working directory of the build (`bundle-handlers.ts`).
 *
 * `@aws-sdk/credential-provider-node` (the SDK's default credential chain) becomes the chain's
 * environment-variable link alone, which is where Lambda puts a function's credentials: the rest
 * of the chain is 116–140 KB of every bundle that never runs there, and passing `credentials`
 * to a client does not drop it (lambdas/adapters/aws/env-credentials.ts says why).
 *
 * `node:process` becomes the global `process`: importing the builtin as an ES module opens
 * stdin, stdout and stderr at a cold start (lambdas/adapters/aws/node-process.ts says why).
 */
export const ALIASES: Record<string, string> = {
  '@aws-sdk/credential-provider-node': './lambdas/adapters/aws/env-credentials.ts',
  'node:process': './lambdas/adapters/aws/node-process.ts',
  process: './lambdas/adapters/aws/node-process.ts',
};

/**
 * Prefer packages' ESM builds (tree-shakable) over their CommonJS `main`. The SDK's schema
 * modules become tree-shakable through the build's plugin (`literal-schema-keys.ts`).
 */
export const MAIN_FIELDS = ['module', 'main'];

/** The options esbuild gets, in esbuild's own terms; `bundle-handlers.ts` adds the entry points, the output and the SDK plugins. */
export const ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: BUNDLE_TARGET,
  minify: true,
  // Error classes set `name` literally, but keepNames also keeps stack traces and logs readable.
  keepNames: true,
  // `linked`: the bundle ends with `//# sourceMappingURL=index.mjs.map`, which
  // `--enable-source-maps` (the functions' NODE_OPTIONS) follows; an `external` map is written
  // but nothing points at it.
  sourcemap: 'linked',
  // The map's `sourcesContent` would double the asset for no use in Lambda's logs.
  sourcesContent: false,
  mainFields: MAIN_FIELDS,
  banner: { js: REQUIRE_SHIM_BANNER },
  external: EXTERNAL_MODULES,
  alias: ALIASES,
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
} as const;
