/**
 * Makes the AWS SDK's schema modules tree-shakable, as an esbuild plugin of the handlers'
 * build (`infra/bundle-handlers.ts`): the files are transformed in memory as esbuild loads
 * them; node_modules is never written to.
 *
 * Each client's `dist-es/schemas/schemas_0.js` describes every operation of the service as a
 * top-level array, with its traits in an object keyed through module constants:
 * `{ [_h]: ["GET", "/…", 200] }` where `const _h = "http"`. esbuild cannot prove a computed
 * key free of side effects, so it keeps every operation's schema (and every shape those
 * reference) in every bundle that imports the client, used or not: about 90 KB of the 500 KB
 * rollback bundle, and a fifth of its cold import time (bench/RESULTS.md). Writing the
 * constant's string in place of the computed key (`{ "http": [...] }`) builds the same object
 * and lets esbuild drop what no command uses.
 *
 * Only the bundles see the change: Node loads the SDK's CommonJS build, untouched, in the
 * tests; it builds the same objects.
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/** `[_x]:` → `"value":` wherever `const _x = "value";` is a top-level string constant of the module. */
export function literalSchemaKeys(text: string): { text: string; replaced: number } {
  const constants = new Map<string, string>();
  for (const m of text.matchAll(/^const (_[A-Za-z0-9]+) = ("(?:[^"\\\n]|\\.)*");$/gm)) constants.set(m[1]!, m[2]!);
  let replaced = 0;
  const out = text.replace(/\[(_[A-Za-z0-9]+)\]:/g, (whole, name: string) => {
    const literal = constants.get(name);
    // A literal `"__proto__":` key would set the prototype where the computed key made a property.
    if (literal === undefined || JSON.parse(literal) === '__proto__') return whole;
    replaced++;
    return `${literal}:`;
  });
  return { text: out, replaced };
}

/**
 * The ES schema modules of every `@aws-sdk/client-*` package, wherever it is installed (an esbuild
 * filter: Go regular expressions, no lookbehind).
 */
export const SCHEMA_MODULE = /[\\/]node_modules[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/** What a plugin did in one build: files it loaded (its filter matched), files it changed, replacements in all. */
export interface TransformStats {
  loaded: number;
  changed: number;
  replaced: number;
}

export const noTransforms = (): TransformStats => ({ loaded: 0, changed: 0, replaced: 0 });

/** The esbuild plugin: loads each schema module with its computed keys made literal. */
export function literalSchemaKeysPlugin(stats?: TransformStats): Plugin {
  return {
    name: 'tagflow-literal-schema-keys',
    setup(build) {
      build.onLoad({ filter: SCHEMA_MODULE }, async (args) => {
        const { text, replaced } = literalSchemaKeys(await readFile(args.path, 'utf8'));
        if (stats) {
          stats.loaded++;
          if (replaced > 0) stats.changed++;
          stats.replaced += replaced;
        }
        // resolveDir defaults to the file's directory, so its imports resolve as before.
        return { contents: text, loader: 'js' };
      });
    },
  };
}
