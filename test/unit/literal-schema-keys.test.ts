import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/app.js';
import { literalSchemaKeys, schemaModules } from '../../infra/literal-schema-keys.js';

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
    for (const m of modules) expect(literalSchemaKeys(readFileSync(m, 'utf8')).replaced, m).toBe(0);
  });
});
