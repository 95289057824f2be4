import { describe, expect, it } from 'vitest';
import { checkNewerLines, checkTarget, newerLines, type RunningVersion } from '../../lambdas/lib/hotfix-order.js';
import { parseManifest, parseTestReport } from '../../lambdas/lib/manifest.js';
import { compareVersions, lineOf } from '../../lambdas/lib/version-order.js';

const ORDER = ['dev', 'staging', 'prod'];
const FIX = 'f'.repeat(40);
const OTHER = 'a'.repeat(40);
const run = (environment: string, version: string, canary = false): RunningVersion => ({ environment, version, ...(canary ? { canary } : {}) });

describe('version order', () => {
  it('orders by semver precedence: numbers numerically, a pre-release before its release', () => {
    const sorted = ['v1.101.0', 'v1.100.1', 'v1.99.4', 'v1.101.0-rc.1', 'v1.101.0-rc.10', 'v1.101.0-rc.2', 'v2.0.0', 'v1.100.0'].sort(compareVersions);
    expect(sorted).toEqual(['v1.99.4', 'v1.100.0', 'v1.100.1', 'v1.101.0-rc.1', 'v1.101.0-rc.2', 'v1.101.0-rc.10', 'v1.101.0', 'v2.0.0']);
    expect(compareVersions('v1.100.1+build.7', 'v1.100.1')).toBe(0);
    expect(lineOf('v1.100.1')).toBe('1.100');
  });

  it('puts a config version after its base and earlier revisions, before the next patch: a config release of the live build takes nothing back', () => {
    const sorted = ['v1.100.1', 'v1.100.0-config.10', 'v1.100.0', 'v1.100.0-config.2', 'v1.100.0-rc.1'].sort(compareVersions);
    expect(sorted).toEqual(['v1.100.0-rc.1', 'v1.100.0', 'v1.100.0-config.2', 'v1.100.0-config.10', 'v1.100.1']);
    expect(checkTarget({ version: 'v1.100.0-config.1', environment: 'prod', order: ORDER, running: [run('prod', 'v1.100.0')] })).toEqual({ verdict: 'ok' });
    expect(checkTarget({ version: 'v1.100.0-config.1', environment: 'prod', order: ORDER, running: [run('prod', 'v1.100.0-config.2')] })).toMatchObject({ verdict: 'regression' });
  });
});

describe('the environment being entered', () => {
  it('takes a newer version, or a first deploy', () => {
    expect(checkTarget({ version: 'v1.100.1', environment: 'prod', order: ORDER, running: [run('prod', 'v1.100.0')] })).toEqual({ verdict: 'ok' });
    expect(checkTarget({ version: 'v1.100.1', environment: 'prod', order: ORDER, running: [] })).toEqual({ verdict: 'ok' });
  });

  it('refuses an older version of the line it runs', () => {
    const v = checkTarget({ version: 'v1.100.1', environment: 'prod', order: ORDER, running: [run('prod', 'v1.100.2')] });
    expect(v).toMatchObject({ verdict: 'regression', runs: 'v1.100.2' });
    expect(v.verdict === 'regression' && v.reason).toBe('prod runs v1.100.2, a later patch of the same line 1.100: v1.100.1 would take prod back');
  });

  it('refuses an older line where no later environment runs anything older for it to replace (v1.99.4 into a prod at v1.100.0)', () => {
    const v = checkTarget({ version: 'v1.99.4', environment: 'prod', order: ORDER, running: [run('prod', 'v1.100.0')] });
    expect(v).toMatchObject({ verdict: 'regression', runs: 'v1.100.0' });
    const staging = checkTarget({ version: 'v1.99.4', environment: 'staging', order: ORDER, running: [run('staging', 'v1.101.0'), run('prod', 'v1.100.0')] });
    expect(staging.verdict === 'regression' && staging.reason).toContain('staging runs v1.101.0, newer than v1.99.4, and no later environment runs an older version for it to replace (prod runs v1.100.0)');
  });

  it('passes by an environment on a newer line when a later one runs the older line the dot release is for', () => {
    const v = checkTarget({ version: 'v1.100.1', environment: 'staging', order: ORDER, running: [run('staging', 'v1.101.0'), run('prod', 'v1.100.0')] });
    expect(v).toMatchObject({ verdict: 'skip', runs: 'v1.101.0', landsIn: 'prod' });
    expect(v.verdict === 'skip' && v.reason).toContain('passes staging by without deploying');
  });

  it('counts a canary as what the environment runs', () => {
    expect(checkTarget({ version: 'v1.100.1', environment: 'prod', order: ORDER, running: [run('prod', 'v1.100.0'), run('prod', 'v1.100.2', true)] })).toMatchObject({ verdict: 'regression', runs: 'v1.100.2' });
  });
});

describe('newer lines and the fix', () => {
  const running = [run('dev', 'v1.102.0'), run('staging', 'v1.101.0'), run('prod', 'v1.100.0'), run('prod', 'v1.100.2', true)];

  it('lists the versions of newer lines anywhere, newest first, not later patches of the same line', () => {
    expect(newerLines('v1.100.1', running)).toEqual([
      { version: 'v1.102.0', environments: ['dev'] },
      { version: 'v1.101.0', environments: ['staging'] },
    ]);
    expect(newerLines('v1.102.1', running)).toEqual([]);
  });

  it('confirms when every newer build lists every fixed commit', () => {
    const v = checkNewerLines('v1.100.1', { commits: [FIX], source: 'fixes' }, [{ version: 'v1.101.0', environments: ['staging'], commits: [OTHER, FIX] }]);
    expect(v).toMatchObject({ verdict: 'confirmed' });
    expect(v.reason).toBe(`every newer line holds the fix CI reported for v1.100.1 (${FIX.slice(0, 12)}): v1.101.0 (staging)`);
  });

  it('names which newer line lacks which commit, and which cannot be told', () => {
    const v = checkNewerLines('v1.100.1', { commits: [FIX, OTHER], source: 'fixes' }, [
      { version: 'v1.102.0', environments: ['dev'] },
      { version: 'v1.101.0', environments: ['staging'], commits: [OTHER] },
    ]);
    expect(v.verdict).toBe('unconfirmed');
    expect(v.reason).toContain(`v1.101.0 lacks ${FIX.slice(0, 12)} (staging)`);
    expect(v.reason).toContain('cannot tell whether v1.102.0 (dev) holds it: its build manifest lists no commits');
    expect(v.lines).toEqual([
      { version: 'v1.102.0', environments: ['dev'], unknown: 'its build manifest lists no commits' },
      { version: 'v1.101.0', environments: ['staging'], lacks: [FIX] },
    ]);
  });

  it("without CI's fixes, looks for the release's own commit and says so", () => {
    const v = checkNewerLines('v1.100.1', { commits: [FIX], source: 'commit' }, [{ version: 'v1.101.0', environments: ['staging'], commits: [OTHER] }]);
    expect(v.reason).toContain(`v1.100.1's commit ${FIX.slice(0, 12)} (CI reported no fixes for it)`);
  });
});

describe('the documents CI uploads', () => {
  const manifest = { service: 'api', version: 'v1.101.0', commit: OTHER, createdAt: '2026-11-30T00:00:00Z', files: [{ path: 'a', size: 1, sha256: 'b'.repeat(64) }] };

  it("keep a manifest's commits and CI's fixes, and say which entry is not a commit", () => {
    expect(parseManifest({ ...manifest, commits: [OTHER, FIX] }, 'm').commits).toEqual([OTHER, FIX]);
    expect(parseManifest(manifest, 'm')).not.toHaveProperty('commits');
    expect(() => parseManifest({ ...manifest, commits: [OTHER, 'abc1234'] }, 'm')).toThrow('commits[1]: expected the full commit SHA, 40 lower-case hex characters, got "abc1234"');
    const report = { service: 'api', commit: FIX, finishedAt: '2026-11-30T00:00:00Z', suites: [] };
    expect(parseTestReport({ ...report, fixes: [OTHER] })).toMatchObject({ fixes: [OTHER] });
    expect(parseTestReport({ ...report, fixes: 'abc' })).toContain('fixes');
  });
});
