import { describe, expect, it } from 'vitest';
import { configOnlyProblem, envIssues, sameCodeProblems } from '../../lambdas/lib/config-release.js';
import { doraFigures } from '../../lambdas/lib/dora.js';
import { parseManifest, resolvedFrom } from '../../lambdas/lib/manifest.js';
import type { BuildManifest, Decision, ReleaseRecord } from '../../lambdas/lib/types.js';
import { compareVersions } from '../../lambdas/lib/version-order.js';
import { configVersionOf, isPrerelease, releaseKindOf } from '../../lambdas/lib/version.js';
import { configReleasesLine } from '../../local/cli/dora-config.js';

const COMMIT = 'a'.repeat(40);
const FILE = { path: 'app.mjs', size: 10, sha256: 'b'.repeat(64) };
const base: BuildManifest = { service: 'api', version: 'v1.4.0', commit: COMMIT, entry: 'app.mjs', createdAt: '2026-11-30T10:00:00Z', files: [FILE] };
const config = (over: Partial<BuildManifest> = {}): BuildManifest => ({ ...base, version: 'v1.4.0-config.1', kind: 'config', base: 'v1.4.0', env: { GREETING: 'hi' }, ...over });

describe('config version shape', () => {
  it('is the base build version plus -config.N', () => {
    expect(configVersionOf('v1.4.0-config.1')).toEqual({ base: 'v1.4.0', revision: 1 });
    expect(configVersionOf('v1.4.0-rc.1-config.12')).toEqual({ base: 'v1.4.0-rc.1', revision: 12 });
    for (const not of ['v1.4.0', 'v1.4.0-config', 'v1.4.0-config.0', 'v1.4.0-config.01', 'v1.4.0-config.1-config.2', 'v1.4.0+b.1-config.1', 'v1.4-config.1']) expect(configVersionOf(not), not).toBeUndefined();
    expect(releaseKindOf('v1.4.0-config.1')).toBe('config');
    expect(releaseKindOf('v1.4.0-rc.1')).toBe('code');
  });

  it('is no pre-release unless its base is one', () => {
    expect(isPrerelease('v1.4.0-config.1')).toBe(false);
    expect(isPrerelease('v1.4.0-rc.1-config.1')).toBe(true);
    expect(isPrerelease('v1.4.0-rc.1')).toBe(true);
  });

  it('orders right after its base and earlier revisions, before the next version', () => {
    const sorted = ['v1.4.1', 'v1.4.0-config.2', 'v1.4.0', 'v1.4.0-config.10', 'v1.3.9-config.1', 'v1.4.0-config.1'].sort(compareVersions);
    expect(sorted).toEqual(['v1.3.9-config.1', 'v1.4.0', 'v1.4.0-config.1', 'v1.4.0-config.2', 'v1.4.0-config.10', 'v1.4.1']);
  });

  it('--config-only says what to type instead', () => {
    expect(configOnlyProblem('v1.4.0-config.3')).toBeUndefined();
    expect(configOnlyProblem('v1.4.0')).toMatch(/"v1\.4\.0" is not a config version: .* e\.g\. v1\.4\.0-config\.1/);
  });
});

describe('config manifest', () => {
  it('parses kind, base and env, and hands the config to the targets', () => {
    const m = parseManifest(config(), 'here');
    expect(m).toMatchObject({ kind: 'config', base: 'v1.4.0', env: { GREETING: 'hi' } });
    expect(resolvedFrom(m, 'k').config).toEqual({ base: 'v1.4.0', env: { GREETING: 'hi' } });
    expect(resolvedFrom(parseManifest(base, 'here'), 'k').config).toBeUndefined();
  });

  it('holds the kind to the version shape, naming the field', () => {
    expect(() => parseManifest({ ...config(), kind: undefined }, 'here')).toThrow(/kind: v1\.4\.0-config\.1 is a config version: its manifest needs "kind": "config"/);
    expect(() => parseManifest(config({ base: 'v1.3.0' }), 'here')).toThrow(/base: v1\.4\.0-config\.1 is a config revision of v1\.4\.0, so "base" must be "v1\.4\.0", got "v1\.3\.0"/);
    expect(() => parseManifest({ ...base, kind: 'config' }, 'here')).toThrow(/kind: v1\.4\.0 is not a config version/);
    expect(() => parseManifest({ ...config(), env: { GREETING: 3 } }, 'here')).toThrow(/env\.GREETING: expected a string value, got number/);
  });

  it('refuses variable names Lambda or tagflow keep, and more than Lambda holds', () => {
    expect(envIssues({ AWS_REGION: 'x', TAGFLOW_CONFIG_VARS: 'x', '9LIVES': 'x', ok_name: 'x' }).map((i) => i.field)).toEqual(['env.AWS_REGION', 'env.TAGFLOW_CONFIG_VARS', 'env.9LIVES']);
    expect(envIssues({ BIG: 'x'.repeat(5000) })).toEqual([{ field: 'env', problem: 'the variables take 5003 bytes; Lambda allows 4096 in all' }]);
  });

  it('ships the base code unchanged: same commit, entry and file hashes; config files may be added', () => {
    expect(sameCodeProblems(config({ files: [FILE, { path: 'config.json', size: 2, sha256: 'c'.repeat(64) }] }), base)).toEqual([]);
    expect(sameCodeProblems(config({ files: [{ ...FILE, sha256: 'd'.repeat(64) }] }), base)).toEqual([expect.stringMatching(/^its app\.mjs \(SHA-256 dddddddddddd…\) differs from the base's/)]);
    expect(sameCodeProblems(config({ commit: 'e'.repeat(40) }), base)).toEqual([expect.stringMatching(/names commit eeeeeeeeeeee but the base v1\.4\.0 was built from aaaaaaaaaaaa/)]);
    expect(sameCodeProblems(config({ files: [{ path: 'other.mjs', size: 1, sha256: 'f'.repeat(64) }] }), base)).toEqual(['it lacks app.mjs of the base build']);
    expect(sameCodeProblems(config(), config({ version: 'v1.4.0-config.1' }))[0]).toMatch(/is itself a config release/);
  });
});

describe('DORA with config releases', () => {
  const at = (m: number) => new Date(Date.UTC(2026, 10, 30, 10, m)).toISOString();
  const record = (version: string): ReleaseRecord => ({ releaseId: `api@${version}`, service: 'api', version, trigger: { kind: 'manual' }, executionId: `x-${version}`, startedAt: at(0), plan: ['prod'], configSnapshot: '{}' });
  const d = (version: string, m: number, step: string, verdict: Decision['verdict']): Decision => ({ releaseId: `api@${version}`, service: 'api', version, at: at(m), step, environment: 'prod', verdict, summary: '' });

  it('counts config releases apart: not in deployments, lead time or change failure rate; their rollback still counts in time to restore', () => {
    const histories = [
      { release: record('v1.4.0'), decisions: [d('v1.4.0', 1, 'deploy', 'done'), d('v1.4.0', 3, 'record-stage', 'passed')] },
      { release: { ...record('v1.4.0-config.1'), releaseKind: 'config' as const }, decisions: [d('v1.4.0-config.1', 10, 'deploy', 'done'), d('v1.4.0-config.1', 12, 'rollback', 'done')] },
      { release: { ...record('v1.4.0-config.2'), releaseKind: 'config' as const }, decisions: [d('v1.4.0-config.2', 20, 'deploy', 'done'), d('v1.4.0-config.2', 21, 'record-stage', 'passed')] },
    ];
    const f = doraFigures('api', 'prod', histories, new Date(at(30)), 7);
    expect(f).toMatchObject({ deployments: 1, succeeded: 1, failed: 0, changeFailureRate: 0, leadTimeMs: { count: 1, median: 180_000 } });
    expect(f.config).toEqual({ deployments: 2, succeeded: 1, failed: 1, changeFailureRate: 0.5 });
    expect(f.timeToRestoreMs).toMatchObject({ count: 1, median: 120_000 });
    expect(configReleasesLine(f)).toBe('  config releases       2 (same code, new configuration; not counted above, 50% rolled back (1 of 2))');
  });
});
