import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build, type OnLoadArgs, type OnLoadResult, type Plugin, type PluginBuild } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/app.js';
import { sdkPlugins, type SdkTransformStats } from '../../infra/bundle-handlers.js';
import { literalSchemaKeys, literalSchemaKeysPlugin, noTransforms } from '../../infra/literal-schema-keys.js';
import { staticEventStreams, staticEventStreamsPlugin } from '../../infra/static-event-streams.js';

/**
 * The esbuild plugins that make the AWS SDK smaller and quicker to load in the bundles: their
 * transforms, and that they work in memory, on the files esbuild loads, never on node_modules.
 * test/infra/bundles.test.ts checks their effect on the real bundles.
 */

const dynamic = 'await import("@smithy/core/event-streams")';
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const hashes = (files: string[]) => Object.fromEntries(files.map((f) => [f, sha(f)]));

/** Runs a plugin's onLoad on one file, as esbuild would, without esbuild. */
async function loadWith(plugin: Plugin, path: string): Promise<{ matched: boolean; contents?: string }> {
  let hook: { filter: RegExp; callback: (args: OnLoadArgs) => Promise<OnLoadResult | null | undefined> } | undefined;
  await plugin.setup({ onLoad: (options: { filter: RegExp }, callback: never) => (hook = { filter: options.filter, callback }) } as unknown as PluginBuild);
  if (!hook!.filter.test(path)) return { matched: false };
  const result = await hook!.callback({ path, namespace: 'file', suffix: '', pluginData: undefined, with: {} });
  return { matched: true, contents: String(result?.contents) };
}

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

  it('the plugin transforms every installed client\'s real schema module in memory', async () => {
    const scope = join(PROJECT_ROOT, 'node_modules', '@aws-sdk');
    const clients = readdirSync(scope).filter((d) => d.startsWith('client-'));
    expect(clients).toEqual(expect.arrayContaining(['client-dynamodb', 'client-lambda', 'client-s3']));
    const modules = clients.map((c) => join(scope, c, 'dist-es', 'schemas', 'schemas_0.js'));
    const before = hashes(modules);
    const loaded: Record<string, string> = {};
    for (const [i, m] of modules.entries()) {
      const { matched, contents } = await loadWith(literalSchemaKeysPlugin(), m);
      expect(matched, m).toBe(true);
      // Every computed key naming a string constant is literal.
      expect(literalSchemaKeys(contents!).replaced, m).toBe(0);
      loaded[clients[i]!] = contents!;
    }
    // The REST clients' operations, with their HTTP traits as literal keys.
    for (const client of ['client-lambda', 'client-s3']) expect(loaded[client], client).toMatch(/\{ "http": \["(GET|POST|PUT|DELETE|HEAD)", "\//);
    // Not the CommonJS build, nor other files of the package.
    expect((await loadWith(literalSchemaKeysPlugin(), join(scope, 'client-lambda', 'dist-cjs', 'index.js'))).matched).toBe(false);
    expect((await loadWith(literalSchemaKeysPlugin(), join(scope, 'client-lambda', 'dist-es', 'LambdaClient.js'))).matched).toBe(false);
    expect(hashes(modules)).toEqual(before);
  });
});

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

  it('the plugin transforms the real @smithy/core protocol modules in memory', async () => {
    const dir = join(PROJECT_ROOT, 'node_modules', '@smithy', 'core', 'dist-es', 'submodules', 'protocols');
    const modules = readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => join(dir, f));
    const before = hashes(modules);
    const withStatic: string[] = [];
    for (const m of modules) {
      const loaded = await loadWith(staticEventStreamsPlugin(), m);
      expect(loaded.matched, m).toBe(true);
      // An SDK update that loads the module some other way fails here (and in the bundle test).
      expect(loaded.contents, m).not.toContain('import("@smithy/core/event-streams")');
      if (loaded.contents!.startsWith('import * as __tagflowEventStreams from "@smithy/core/event-streams";')) withStatic.push(m.split('/').pop()!);
    }
    expect(withStatic).toEqual(['HttpProtocol.js']);
    expect((await loadWith(staticEventStreamsPlugin(), join(dir, '..', 'event-streams', 'index.js'))).matched).toBe(false);
    expect(hashes(modules)).toEqual(before);
  });
});

describe('the SDK plugins in an esbuild build', () => {
  it('transform what esbuild loads, leave the files on disk alone, and count what they did', async () => {
    // A package tree laid out like the SDK's, with one unused operation and an on-demand import.
    const root = mkdtempSync(join(tmpdir(), 'tagflow-sdk-plugins-'));
    try {
      const files: Record<string, string> = {
        'node_modules/@aws-sdk/client-fake/package.json': JSON.stringify({ name: '@aws-sdk/client-fake', module: './dist-es/index.js', sideEffects: false }),
        'node_modules/@aws-sdk/client-fake/dist-es/index.js': 'export { GetThing$ } from "./schemas/schemas_0.js";\n',
        'node_modules/@aws-sdk/client-fake/dist-es/schemas/schemas_0.js':
          'const _h = "http";\nconst _GT = "GetThing";\nconst _LT = "ListEveryThingEver";\n' +
          'export var GetThing$ = [9, "fake", _GT, { [_h]: ["GET", "/things/{Id}", 200] }];\n' +
          'export var ListEveryThingEver$ = [9, "fake", _LT, { [_h]: ["GET", "/things", 200] }];\n',
        'node_modules/@smithy/core/package.json': JSON.stringify({
          name: '@smithy/core',
          exports: { './protocols': { module: './dist-es/submodules/protocols/index.js' }, './event-streams': { module: './dist-es/submodules/event-streams/index.js' } },
        }),
        'node_modules/@smithy/core/dist-es/submodules/protocols/index.js': 'export { HttpProtocol } from "./HttpProtocol.js";\n',
        'node_modules/@smithy/core/dist-es/submodules/protocols/HttpProtocol.js': `export class HttpProtocol {\n  async load() {\n    const { EventStreamSerde } = ${dynamic};\n    return EventStreamSerde;\n  }\n}\n`,
        'node_modules/@smithy/core/dist-es/submodules/event-streams/index.js': 'export class EventStreamSerde {}\n',
        'entry.js': 'import { GetThing$ } from "@aws-sdk/client-fake";\nimport { HttpProtocol } from "@smithy/core/protocols";\nexport const op = GetThing$;\nexport const p = new HttpProtocol();\n',
      };
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      }
      const onDisk = Object.keys(files).map((p) => join(root, p));
      const before = hashes(onDisk);
      const bundle = async (plugins: Plugin[]) => {
        const r = await build({ entryPoints: [join(root, 'entry.js')], bundle: true, format: 'esm', platform: 'node', mainFields: ['module', 'main'], conditions: ['module'], write: false, absWorkingDir: root, plugins, logLevel: 'silent' });
        return r.outputFiles[0]!.text;
      };

      const without = await bundle([]);
      // What the plugins are for: esbuild keeps the unused operation and wraps the lazily imported module.
      expect(without).toContain('ListEveryThingEver');
      expect(without).toContain('Promise.resolve().then(() => (');

      const stats: SdkTransformStats = { literalSchemaKeys: noTransforms(), staticEventStreams: noTransforms() };
      const withPlugins = await bundle(sdkPlugins(stats));
      expect(withPlugins).not.toContain('ListEveryThingEver');
      expect(withPlugins).toMatch(/"http": \["GET", "\/things\/\{Id\}", 200\]/);
      expect(withPlugins).not.toContain('import(');
      expect(withPlugins).not.toContain('Promise.resolve().then(');
      expect(stats).toEqual({ literalSchemaKeys: { loaded: 1, changed: 1, replaced: 2 }, staticEventStreams: { loaded: 2, changed: 1, replaced: 1 } });

      // In memory only: the package's files are as they were.
      expect(hashes(onDisk)).toEqual(before);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
