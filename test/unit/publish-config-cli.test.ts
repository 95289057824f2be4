import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestKey } from '../../lambdas/lib/keys.js';
import type { ObjectLocation, ObjectStore } from '../../lambdas/lib/ports.js';
import { configFromFlags, publishConfigCommand } from '../../local/cli/publish-config.js';
import { publishBuild } from '../../local/runtime/ci.js';

/** A map of objects with the ObjectStore contract (the S3 one is exercised by the integration tests). */
class MapStore implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  private id = (l: ObjectLocation) => `${l.bucket}/${l.key}`;
  async get(l: ObjectLocation) {
    return this.objects.get(this.id(l));
  }
  async stream(l: ObjectLocation) {
    const b = this.objects.get(this.id(l));
    return b ? (async function* () { yield b; })() : undefined;
  }
  async put(l: ObjectLocation, body: Uint8Array | string) {
    this.objects.set(this.id(l), typeof body === 'string' ? Buffer.from(body) : body);
  }
  async copy(from: ObjectLocation, to: ObjectLocation) {
    const b = this.objects.get(this.id(from));
    if (!b) throw new Error(`NoSuchKey ${from.key}`);
    this.objects.set(this.id(to), b);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tagflow-publish-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('tagflow local publish-config', () => {
  it('reads --env and --file, and names the flag that is wrong', () => {
    const vars = file('vars.json', '{"LOG_LEVEL":"debug"}');
    expect(configFromFlags({ service: 'api', version: 'v1.4.0-config.1', env: ['GREETING=hi there', 'EMPTY='], file: vars })).toEqual({ service: 'api', version: 'v1.4.0-config.1', env: { LOG_LEVEL: 'debug', GREETING: 'hi there', EMPTY: '' } });
    expect(() => configFromFlags({ service: 'api', version: 'v1.4.0' })).toThrow(/^--version "v1\.4\.0" is not a config version: .* e\.g\. v1\.4\.0-config\.1/);
    expect(() => configFromFlags({ service: 'api', version: 'v1.4.0-config.1', env: ['GREETING'] })).toThrow('--env "GREETING": expected NAME=VALUE, e.g. --env GREETING=hi');
    expect(() => configFromFlags({ service: 'api', version: 'v1.4.0-config.1', env: ['A=1', 'A=2'] })).toThrow('--env A is given twice');
    expect(() => configFromFlags({ service: 'api', version: 'v1.4.0-config.1', env: ['AWS_REGION=x'] })).toThrow('--env AWS_REGION: is reserved by the Lambda runtime; choose another name');
    expect(() => configFromFlags({ service: 'api', version: 'v1.4.0-config.1', env: ['LOG_LEVEL=x'], file: vars })).toThrow(`--env LOG_LEVEL is also in --file ${vars}`);
    expect(() => configFromFlags({ service: 'api', version: 'v1.4.0-config.1', file: file('list.json', '["x"]') })).toThrow(/expected a JSON object of variables/);
    expect(() => configFromFlags({ service: 'api', version: 'v1.4.0-config.1', file: file('num.json', '{"N":3}') })).toThrow(/num\.json: N: expected a string value, got number/);
    for (const e of [() => configFromFlags({ version: 'v1.4.0-config.1' }), () => configFromFlags({ service: 'api', version: 'v1.4.0' })]) expect(e).toThrow(expect.objectContaining({ name: 'CliInputError' }));
  });

  it('publishes the base build again with the variables, and refuses a missing base as input (exit 2)', async () => {
    const store = new MapStore();
    await expect(publishConfigCommand({ service: 'api', version: 'v1.4.0-config.1', env: ['GREETING=hi'] }, { store, artifactsBucket: 'art' })).rejects.toMatchObject({ name: 'CliInputError', message: expect.stringContaining('no build of api v1.4.0') });

    const build = mkdtempSync(join(dir, 'build-'));
    writeFileSync(join(build, 'app.mjs'), 'export const fetch = () => new Response("ok");\n');
    await publishBuild(store, 'art', { service: 'api', version: 'v1.4.0', commit: 'c'.repeat(40), dir: build, entry: 'app.mjs' });
    const line = await publishConfigCommand({ service: 'api', version: 'v1.4.0-config.1', env: ['GREETING=hi'] }, { store, artifactsBucket: 'art' });
    expect(line).toBe('published api v1.4.0-config.1: the code of v1.4.0 (1 files, commit cccccccccccc) with GREETING (s3://art)');
    const m = JSON.parse(Buffer.from((await store.get({ bucket: 'art', key: manifestKey('api', 'v1.4.0-config.1') }))!).toString()) as Record<string, unknown>;
    expect(m).toMatchObject({ kind: 'config', base: 'v1.4.0', env: { GREETING: 'hi' }, commit: 'c'.repeat(40), entry: 'app.mjs' });
  });
});
