import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/lib/config.js';
import { ArtifactIntegrityError } from '../../lambdas/lib/errors.js';
import type { ObjectStore } from '../../lambdas/lib/ports.js';
import { CliInputError } from '../../local/cli/cli-errors.js';
import { PublishRefused, validatePublishBuild } from '../../local/cli/publish-validate.js';
import { publishBuild } from '../../local/runtime/ci.js';

/** Issue 14: publish-build refuses, before uploading anything, a build its release would refuse. */

const root = mkdtempSync(join(tmpdir(), 'tagflow-publish-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const build = join(root, 'dist');
mkdirSync(join(build, 'lib'), { recursive: true });
writeFileSync(join(build, 'app.mjs'), 'export async function fetch() { return new Response("ok"); }');
writeFileSync(join(build, 'lib', 'util.mjs'), 'export const x = 1;');
writeFileSync(join(root, 'file.txt'), 'x');
mkdirSync(join(root, 'empty'));

const SHA = 'a'.repeat(40);
const config = parseConfig({ services: { checkout: { environments: [{ name: 'dev' }] } } });
const good = { service: 'checkout', version: 'v1.4.0', commit: SHA, dir: build, entry: 'app.mjs' };
const refusal = (flags: Parameters<typeof validatePublishBuild>[0]) => {
  try {
    validatePublishBuild(flags, config);
  } catch (err) {
    expect(err).toBeInstanceOf(CliInputError);
    expect((err as Error).message).not.toContain('\n');
    expect((err as Error).message).toBe(`publish-build refused, nothing uploaded: ${(err as PublishRefused).problems.join('; ')}`);
    return (err as PublishRefused).problems;
  }
  throw new Error('expected a refusal');
};

describe('publish-build flags', () => {
  it('takes --commits as full SHAs, refusing a short one by name', () => {
    const b = 'b'.repeat(40);
    expect(validatePublishBuild({ ...good, commits: `${SHA}, ${b}` }, config).commits).toEqual([SHA, b]);
    expect(refusal({ ...good, commits: `${SHA},abc123` })).toEqual(['--commits abc123: expected a full 40-character lower-case hex commit SHA']);
    expect(refusal({ ...good, commits: ' , ' })[0]).toMatch(/^--commits: expected full commit SHAs separated by commas/);
  });

  it('passes a good build through, image digest and build id included', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    expect(validatePublishBuild({ ...good, build: '456', imageDigest: digest }, config)).toEqual({ ...good, build: '456', imageDigest: digest });
    expect(validatePublishBuild({ ...good, entry: 'lib/util.mjs' }, config).entry).toBe('lib/util.mjs');
  });

  it('a short commit asks for the full SHA', () => {
    expect(refusal({ ...good, commit: 'abc1234' })).toEqual(['--commit abc1234: a short SHA; give the full 40-character commit (git rev-parse abc1234)']);
    expect(refusal({ ...good, commit: 'abc' })).toEqual(['--commit "abc": expected the full 40-character lower-case hex commit SHA (git rev-parse HEAD)']);
    expect(refusal({ ...good, commit: 'A'.repeat(40) })).toEqual([`--commit ${'A'.repeat(40)}: expected lower-case hex, e.g. --commit ${SHA}`]);
  });

  it('an entry not among the files names the one meant', () => {
    expect(refusal({ ...good, entry: 'app.js' })).toEqual([`--entry app.js: not among the 2 files in ${build}; did you mean --entry app.mjs?`]);
    expect(refusal({ ...good, entry: '../app.mjs' })).toEqual(['--entry "../app.mjs": expected a path inside --dir, relative, with "/" (e.g. --entry app.mjs)']);
  });

  it('a missing folder, a file and an empty folder are refused', () => {
    expect(refusal({ ...good, dir: join(root, 'nope'), entry: undefined })).toEqual([`--dir ${join(root, 'nope')}: no such folder`]);
    expect(refusal({ ...good, dir: join(root, 'file.txt'), entry: undefined })).toEqual([`--dir ${join(root, 'file.txt')}: a file, not a folder; pass the folder holding the build`]);
    expect(refusal({ ...good, dir: join(root, 'empty'), entry: undefined })).toEqual([`--dir ${join(root, 'empty')}: holds no files to publish`]);
  });

  it('a version that is not a release tag, and a build id given as the version', () => {
    expect(refusal({ ...good, version: '1.4.0' })).toEqual(['--version 1.4.0: "1.4.0" needs a leading "v", e.g. "v1.4.0"']);
    expect(refusal({ ...good, version: 'latest' })[0]).toMatch(/^--version latest: expected a semver tag such as "v1.4.0"/);
    expect(refusal({ ...good, version: 'v1.4.0+build.7' })).toEqual(['--version v1.4.0+build.7: a build of v1.4.0; publish it as --version v1.4.0 --build build.7']);
  });

  it('an image digest that is not sha256 and 64 hex', () => {
    expect(refusal({ ...good, imageDigest: 'sha256:abc' })[0]).toMatch(/^--image-digest "sha256:abc": expected "sha256:" and 64 lower-case hex characters/);
  });

  it('a service not in the config names the one meant; every problem is said at once', () => {
    expect(refusal({ ...good, service: 'checkot', commit: 'abc', entry: 'main.js' })).toEqual([
      '--service checkot: no such service in the config; did you mean checkout? (services: checkout)',
      '--commit "abc": expected the full 40-character lower-case hex commit SHA (git rev-parse HEAD)',
      `--entry main.js: not among the 2 files in ${build} (app.mjs, lib/util.mjs)`,
    ]);
    expect(refusal({ entry: 'app.mjs' })).toEqual(['--service is required, e.g. --service checkout', '--version is required, e.g. --version v1.4.0', '--commit is required, e.g. --commit <40-hex sha>', '--dir is required, e.g. --dir dist/']);
  });
});

describe('publishBuild', () => {
  const recording = () => {
    const puts: string[] = [];
    const store = { put: async (loc: { key: string }) => void puts.push(loc.key) } as unknown as ObjectStore;
    return { store, puts };
  };

  it('uploads nothing when the release would refuse the manifest', async () => {
    const { store, puts } = recording();
    await expect(publishBuild(store, 'artifacts', { ...good, commit: 'abc' })).rejects.toThrow(ArtifactIntegrityError);
    await expect(publishBuild(store, 'artifacts', { ...good, entry: 'main.js' })).rejects.toThrow(/entry main\.js is not among its files/);
    expect(puts).toEqual([]);
  });

  it('writes the image digest into the manifest, after the files', async () => {
    const { store, puts } = recording();
    const digest = `sha256:${'c'.repeat(64)}`;
    const manifest = await publishBuild(store, 'artifacts', { ...good, imageDigest: digest });
    expect(manifest.imageDigest).toBe(digest);
    expect(puts.at(-1)).toBe('builds/checkout/v1.4.0/manifest.json');
    expect(puts).toHaveLength(3);
  });
});
