/**
 * Makes the AWS SDK's schema modules tree-shakable; applied after every install by
 * `infra/patch-sdk.ts`.
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
 * The CommonJS build, which Node loads in the tests, is patched alike, so the tests run the
 * objects the bundles hold.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

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
 * The schema modules of every installed `@aws-sdk/client-*` package under `root`: the ES
 * modules the bundles are built from, and the CommonJS build (one file, schemas inlined) that
 * Node loads in the tests, so that both run the same objects.
 */
export function schemaModules(root: string): string[] {
  const scope = join(root, 'node_modules', '@aws-sdk');
  if (!existsSync(scope)) return [];
  return readdirSync(scope)
    .filter((name) => name.startsWith('client-'))
    .flatMap((name) => {
      const dir = join(scope, name, 'dist-es', 'schemas');
      const esm = existsSync(dir) ? readdirSync(dir).filter((f) => /^schemas_\d+\.js$/.test(f)).map((f) => join(dir, f)) : [];
      const cjs = join(scope, name, 'dist-cjs', 'index.js');
      return [...esm, ...(existsSync(cjs) ? [cjs] : [])];
    });
}
