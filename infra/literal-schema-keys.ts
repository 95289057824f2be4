/**
 * Makes the AWS SDK's schema modules tree-shakable; run after every install (`postinstall`).
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
 * Patched in node_modules, so the tests (Node loads the CommonJS build, patched alike), the
 * bench and the CDK's own esbuild run (which takes no plugins) all run and bundle the same SDK.
 * Idempotent; with install scripts off the bundles are only larger, never different in behaviour.
 *
 *   npx tsx infra/literal-schema-keys.ts
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

function main(): void {
  const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
  let keys = 0;
  let files = 0;
  for (const file of schemaModules(root)) {
    const { text, replaced } = literalSchemaKeys(readFileSync(file, 'utf8'));
    if (replaced === 0) continue;
    writeFileSync(file, text);
    keys += replaced;
    files++;
  }
  console.log(`literal-schema-keys: ${keys} computed keys made literal in ${files} AWS SDK modules`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
