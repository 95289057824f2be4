import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/app.js';
import { literalSchemaKeys, schemaModules } from '../../infra/literal-schema-keys.js';
import { patchSdk } from '../../infra/patch-sdk.js';
import { eventStreamImporters, staticEventStreams } from '../../infra/static-event-streams.js';

/** What a failure of the checks of the installed SDK most likely means, and the fix. */
const NOT_PATCHED = 'is not patched: was `npm ci` run with --ignore-scripts? Run `npx tsx infra/patch-sdk.ts` (bundles stay correct without it, but larger and slower to load)';

describe('literal schema keys', () => {
  it('writes a module constant\'s string in place of the computed key, building the same objects', () => {
    const constants = ['const _h = "http";', 'const _e = "error";', 'const _p = "__proto__";', 'const _c = "client";'].join('\n');
    const body = 'return [{ [_h]: ["GET", "/things/{Id}", 200] }, { [_e]: _c, [_p]: 1 }, { [_unknown]: 2 }];';
    const source = `${constants}\n${body}`;
    const { text, replaced } = literalSchemaKeys(source);

    expect(replaced).toBe(2);
    expect(text).toContain('{ "http": ["GET", "/things/{Id}", 200] }');
    // Left alone: a key that would set the prototype, and a name that is no string constant here.
    expect(text).toContain('{ "error": _c, [_p]: 1 }');
    expect(text).toContain('{ [_unknown]: 2 }');
    const run = (code: string) => new Function('_unknown', code)('u') as object[];
    expect(run(text)).toEqual(run(source));
    expect(Object.getOwnPropertyNames(run(text)[1])).toEqual(['error', '__proto__']);
    expect(literalSchemaKeys(text).replaced).toBe(0);
  });

  it('has been applied to every installed client (postinstall)', () => {
    const modules = schemaModules(PROJECT_ROOT);
    const clients = readdirSync(join(PROJECT_ROOT, 'node_modules', '@aws-sdk')).filter((d) => d.startsWith('client-'));
    expect(clients).toEqual(expect.arrayContaining(['client-dynamodb', 'client-lambda', 'client-s3']));
    // Each client's ES schema module (what the bundles hold) and its CommonJS build (what Node loads here).
    expect(modules.map((m) => m.split('/@aws-sdk/')[1]!.replace(/\/dist-es\/schemas\/schemas_0\.js$/, ' esm').replace(/\/dist-cjs\/index\.js$/, ' cjs')).sort()).toEqual(clients.flatMap((c) => [`${c} cjs`, `${c} esm`]));
    expect(createRequire(import.meta.url).resolve('@aws-sdk/client-lambda')).toMatch(/dist-cjs\/index\.js$/);
    for (const m of modules) expect(literalSchemaKeys(readFileSync(m, 'utf8')).replaced, `${m} ${NOT_PATCHED}`).toBe(0);
  });
});

const dynamic = 'await import("@smithy/core/event-streams")';

describe('static event streams', () => {
  it('imports the event-stream module statically where the protocol loaded it on demand', () => {
    const source = `import { x } from "./x";\nexport class P {\n  async load() {\n    const { EventStreamSerde } = ${dynamic};\n    return EventStreamSerde;\n  }\n}\n`;
    const { text, replaced } = staticEventStreams(source);
    expect(replaced).toBe(1);
    expect(text).not.toContain('import(');
    expect(text.split('\n')[0]).toBe('import * as __tagflowEventStreams from "@smithy/core/event-streams";');
    expect(text).toContain('const { EventStreamSerde } = __tagflowEventStreams;');
    expect(staticEventStreams(text)).toEqual({ text, replaced: 0 });
  });

  it('has been applied to the installed @smithy/core (postinstall)', () => {
    const modules = eventStreamImporters(PROJECT_ROOT);
    const texts = modules.map((m) => readFileSync(m, 'utf8'));
    // An SDK update that loads the module some other way fails here (and in the bundle test).
    expect(modules.filter((_, i) => texts[i]!.includes('import("@smithy/core/event-streams")')), NOT_PATCHED).toEqual([]);
    expect(modules.filter((_, i) => texts[i]!.startsWith('import * as __tagflowEventStreams')).map((m) => m.split('/').pop()), NOT_PATCHED).toEqual(['HttpProtocol.js']);
  });
});

describe('patch-sdk', () => {
  it('applies each patch to its files, once, and reports what it changed', () => {
    const root = mkdtempSync(join(tmpdir(), 'tagflow-patch-sdk-'));
    try {
      const file = join(root, 'm.js');
      writeFileSync(file, `const _h = "http";\nexport const s = { [_h]: 1 };\nexport const f = async () => ${dynamic};\n`);
      const patches = [
        { name: 'keys', unit: 'keys', files: () => [file], transform: literalSchemaKeys },
        { name: 'imports', unit: 'imports', files: () => [file], transform: staticEventStreams },
      ];
      expect(patchSdk(root, patches)).toEqual(['keys: 1 keys in 1 files', 'imports: 1 imports in 1 files']);
      const once = readFileSync(file, 'utf8');
      expect(once).toContain('{ "http": 1 }');
      expect(once).toContain('= async () => __tagflowEventStreams;');
      expect(patchSdk(root, patches)).toEqual(['keys: 0 keys in 0 files', 'imports: 0 imports in 0 files']);
      expect(readFileSync(file, 'utf8')).toBe(once);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
