/**
 * Rewrites parts of the installed AWS SDK so that esbuild bundles it smaller and it loads
 * faster at a cold start, building the same objects; run after every install (`postinstall`).
 * Patched in node_modules, so the tests, the bench and the CDK's own esbuild run (which takes
 * no plugins) all bundle the same SDK. Idempotent; with install scripts off the bundles are
 * only larger and slower to load, never different in behaviour.
 *
 *   npx tsx infra/patch-sdk.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { literalSchemaKeys, schemaModules } from './literal-schema-keys.js';
import { eventStreamImporters, staticEventStreams } from './static-event-streams.js';

export interface SdkPatch {
  name: string;
  /** What one change is, for the report. */
  unit: string;
  files(root: string): string[];
  transform(text: string): { text: string; replaced: number };
}

export const SDK_PATCHES: SdkPatch[] = [
  { name: 'literal schema keys', unit: 'computed keys made literal', files: schemaModules, transform: literalSchemaKeys },
  { name: 'static event streams', unit: 'dynamic imports made static', files: eventStreamImporters, transform: staticEventStreams },
];

export function patchSdk(root: string, patches: SdkPatch[] = SDK_PATCHES): string[] {
  return patches.map((patch) => {
    let changes = 0;
    let files = 0;
    for (const file of patch.files(root)) {
      const { text, replaced } = patch.transform(readFileSync(file, 'utf8'));
      if (replaced === 0) continue;
      writeFileSync(file, text);
      changes += replaced;
      files++;
    }
    return `${patch.name}: ${changes} ${patch.unit} in ${files} files`;
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  for (const line of patchSdk(resolve(fileURLToPath(new URL('..', import.meta.url))))) console.log(`patch-sdk: ${line}`);
}
