import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../lambdas/lib/manifest.js';
import { changesSince, classify, groupChanges, notesMarkdown, notesSummary, notesText, parseChangeLog, releaseNotes } from '../../lambdas/lib/release-notes.js';
import { previousGoodVersion } from '../../lambdas/lib/release-notes-source.js';
import { PublishRefused, validatePublishBuild } from '../../local/cli/publish-validate.js';

/** Issue 16: release notes from the build manifest's `changes`. */

const sha = (n: number) => n.toString(16).padEnd(40, '0');
const change = (n: number, subject: string, author?: string) => ({ sha: sha(n), subject, ...(author ? { author } : {}) });

describe('the change log CI pipes in', () => {
  it('reads git log --format=%H%x09%an%x09%aI%x09%s lines, newest first, a tab in a subject kept', () => {
    const text = `${sha(3)}\tAda Lovelace\t2026-11-02T09:03:00+01:00\tfeat(orders): list orders\n\n${sha(2)}\tAlan Turing\t2026-11-02T09:02:00Z\tfix: a\ttab\r\n${sha(1)}\tjust a subject\n`;
    expect(parseChangeLog(text)).toEqual([
      { sha: sha(3), subject: 'feat(orders): list orders', author: 'Ada Lovelace', date: '2026-11-02T09:03:00+01:00' },
      { sha: sha(2), subject: 'fix: a\ttab', author: 'Alan Turing', date: '2026-11-02T09:02:00Z' },
      { sha: sha(1), subject: 'just a subject' },
    ]);
    expect(parseChangeLog('')).toEqual([]);
  });

  it('names each bad line and the format expected', () => {
    expect(() => parseChangeLog(`abc1234\tAda\t2026\tfeat: x\n${sha(1)}\n`, 'changes.tsv')).toThrow(
      `changes.tsv is not git log --format='%H%x09%an%x09%aI%x09%s' output: line 1: expected a full 40-character lower-case commit SHA first, got "abc1234"; line 2: no subject after the SHA`,
    );
  });
});

describe('conventional commits', () => {
  it('reads type, scope, ! and BREAKING CHANGE; anything else has no type', () => {
    expect(classify(change(1, 'feat(orders)!: new store'))).toMatchObject({ type: 'feat', scope: 'orders', breaking: true, description: 'new store' });
    expect(classify(change(1, 'Fix: upper-case type'))).toMatchObject({ type: 'fix', breaking: false, description: 'upper-case type' });
    expect(classify(change(1, 'chore: drop v1 API, BREAKING CHANGE: clients move'))).toMatchObject({ type: 'chore', breaking: true });
    expect(classify(change(1, 'Merge branch "main": sync')).type).toBeUndefined();
    expect(classify(change(1, 'Merge pull request #7 from x/y'))).toMatchObject({ breaking: false, description: 'Merge pull request #7 from x/y' });
  });

  it('groups breaking changes first, known types in order, unknown types by name, others last; newest first within', () => {
    const groups = groupChanges([change(7, 'fix: b'), change(6, 'Update readme'), change(5, 'wip: x'), change(4, 'feat!: drop v1'), change(3, 'docs: d'), change(2, 'fix(api): a'), change(1, 'feat: f')]);
    expect(groups.map((g) => [g.key, g.title, g.changes.map((c) => c.sha)])).toEqual([
      ['breaking', 'Breaking changes', [sha(4)]],
      ['feat', 'Features', [sha(1)]],
      ['fix', 'Fixes', [sha(7), sha(2)]],
      ['docs', 'Documentation', [sha(3)]],
      ['wip', 'wip', [sha(5)]],
      ['other', 'Other', [sha(6)]],
    ]);
  });
});

describe('changes since the previous known-good version', () => {
  const listed = { changes: [change(5, 'fix: e'), change(4, 'feat: d'), change(3, 'fix: c'), change(2, 'feat: b'), change(1, 'chore: a')] };

  it("stops at the previous version's commit, and leaves out what its build listed", () => {
    expect(changesSince(listed, { commit: sha(3) }).map((c) => c.sha)).toEqual([sha(5), sha(4)]);
    expect(changesSince(listed, { commit: sha(99), commits: [sha(1), sha(2)], changes: [change(3, 'fix: c')] }).map((c) => c.sha)).toEqual([sha(5), sha(4)]);
    expect(changesSince(listed, undefined)).toHaveLength(5);
    expect(changesSince({}, { commit: sha(3) })).toEqual([]);
  });

  it('takes the newest known-good version older than the release, whatever heads the list', () => {
    expect(previousGoodVersion({ goodVersions: ['v1.3.0', 'v1.0.0'], version: 'v1.3.0' }, 'v1.3.0')).toBe('v1.0.0');
    expect(previousGoodVersion({ goodVersions: ['v2.0.0', 'v1.1.0'], version: 'v2.0.0' }, 'v1.1.1')).toBe('v1.1.0');
    expect(previousGoodVersion({ goodVersions: [], version: 'v1.0.0' }, 'v1.2.0')).toBe('v1.0.0');
    expect(previousGoodVersion({ goodVersions: ['v1.0.0'] }, 'v1.0.0')).toBeUndefined();
    expect(previousGoodVersion(undefined, 'v1.0.0')).toBeUndefined();
  });
});

describe('rendered notes', () => {
  const notes = releaseNotes({
    service: 'api',
    version: 'v1.3.0',
    environment: 'prod',
    since: 'v1.0.0',
    current: { changes: [change(4, 'fix(api): quote "x" & <b>', 'Ada "A" Lovelace'), change(3, 'feat!: drop `v1` *now*'), change(2, 'Tidy up_names'), change(1, 'feat: old')] },
    previous: { commit: sha(1) },
  });

  it('counts by group in a summary that holds no commit text', () => {
    expect(notesSummary(notes)).toBe('3 changes: 1 breaking, 1 fix, 1 other');
    expect(notesSummary(releaseNotes({ service: 'api', version: 'v1.0.0', current: {} }))).toBe('no changes listed');
    expect(notesSummary(releaseNotes({ service: 'api', version: 'v1.0.0', current: { changes: [change(1, 'a')] }, previous: { commit: sha(1) } }))).toBe('no new changes');
    expect(notesSummary(releaseNotes({ service: 'api', version: 'v1.0.0', current: { changes: [change(1, 'feat: a')] } }))).toBe('1 change: 1 feat');
    // A type is letters only: a subject's quotes cannot reach the summary.
    expect(notesSummary(releaseNotes({ service: 'api', version: 'v1.0.0', current: { changes: [change(1, 'fe"at: a')] } }))).toBe('1 change: 1 other');
  });

  it('as plain lines', () => {
    expect(notesText(notes)).toEqual([
      'api v1.3.0 since v1.0.0 (known-good in prod): 3 changes: 1 breaking, 1 fix, 1 other',
      '',
      'Breaking changes:',
      '  - drop `v1` *now* (feat) (3000000)',
      '',
      'Fixes:',
      '  - api: quote "x" & <b> (4000000, Ada "A" Lovelace)',
      '',
      'Other:',
      '  - Tidy up_names (2000000)',
    ]);
  });

  it('as a GitHub release body, with markdown and HTML in subjects shown as text', () => {
    expect(notesMarkdown(notes)).toBe(
      [
        '## api v1.3.0',
        '',
        'Changes since v1.0.0 (the previous known-good version in prod): 3 changes: 1 breaking, 1 fix, 1 other.',
        '',
        '### Breaking changes',
        '',
        '- drop \\`v1\\` \\*now\\* (feat) (3000000)',
        '',
        '### Fixes',
        '',
        '- **api:** quote "x" &amp; &lt;b&gt; (4000000, Ada "A" Lovelace)',
        '',
        '### Other',
        '',
        '- Tidy up\\_names (2000000)',
        '',
      ].join('\n'),
    );
  });
});

describe('the manifest field', () => {
  const base = { service: 'api', version: 'v1.2.0', commit: sha(9), createdAt: '2026-01-01T00:00:00.000Z', files: [{ path: 'app.mjs', size: 1, sha256: 'a'.repeat(64) }] };
  const WHERE = 's3://art/builds/api/v1.2.0/manifest.json';

  it('keeps changes as given, and leaves them out when absent', () => {
    const changes = [{ sha: sha(2), subject: 'feat: x', author: 'Ada', date: '2026-11-02T09:00:00Z' }, { sha: sha(1), subject: 'fix: y' }];
    expect(parseManifest({ ...base, changes }, WHERE).changes).toEqual(changes);
    expect(parseManifest({ ...base, changes: [] }, WHERE).changes).toEqual([]);
    expect('changes' in parseManifest(base, WHERE)).toBe(false);
  });

  it('names each bad change and field', () => {
    const bad = [{ sha: 'abc', subject: 'feat: x' }, { sha: sha(1), subject: '' }, { sha: sha(2), subject: 'x'.repeat(301) }, { sha: sha(3), subject: 'two\nlines', date: 'yesterday' }, 'feat: y'];
    const message = (() => {
      try {
        parseManifest({ ...base, changes: bad }, WHERE);
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(message).toContain('changes[0].sha: expected the full commit SHA, 40 lower-case hex characters, got "abc"');
    expect(message).toContain('changes[1].subject: expected the commit\'s subject line, not empty, at most 300 characters');
    expect(message).toContain('changes[2].subject: expected');
    expect(message).toContain('changes[3].subject: expected');
    expect(message).toContain('changes[3].date: expected an ISO 8601 time, as git log %aI gives, got "yesterday"');
    expect(message).toContain('changes[4]: expected a JSON object, got "feat: y"');
    expect(() => parseManifest({ ...base, changes: 'feat: x' }, WHERE)).toThrow(/changes: expected a list of commits/);
    expect(() => parseManifest({ ...base, changes: Array.from({ length: 1001 }, (_, i) => change(i + 1, 'fix: x')) }, WHERE)).toThrow(/changes: lists 1001 commits, at most 1000/);
  });
});

describe('publish-build --changes-file', () => {
  const root = mkdtempSync(join(tmpdir(), 'tagflow-notes-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'app.mjs'), 'export {}');
  const flags = { service: 'api', version: 'v1.2.0', commit: sha(9), dir: root, entry: 'app.mjs' };
  const file = (name: string, text: string) => {
    const path = join(root, '..', `${root.split('/').pop()}-${name}`);
    writeFileSync(path, text);
    return path;
  };

  it('puts the file in the build as its changes', () => {
    const path = file('ok.tsv', `${sha(9)}\tAda\t2026-11-02T09:00:00Z\tfeat: x\n${sha(8)}\tAda\t2026-11-02T08:00:00Z\tfix: y\n`);
    expect(validatePublishBuild({ ...flags, changesFile: path }).changes).toEqual([
      { sha: sha(9), subject: 'feat: x', author: 'Ada', date: '2026-11-02T09:00:00Z' },
      { sha: sha(8), subject: 'fix: y', author: 'Ada', date: '2026-11-02T08:00:00Z' },
    ]);
    rmSync(path);
  });

  it('refuses a missing or malformed file, naming the flag and how to write it', () => {
    const refused = (changesFile: string) => {
      try {
        validatePublishBuild({ ...flags, changesFile });
      } catch (err) {
        expect(err).toBeInstanceOf(PublishRefused);
        return (err as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused(join(root, 'nope.tsv'))).toMatch(/--changes-file .*nope\.tsv: cannot be read \(ENOENT\); write it with git log --format='%H%x09%an%x09%aI%x09%s' PREV\.\.TAG/);
    const shortSha = file('short.tsv', 'abc1234\tAda\t2026-11-02T09:00:00Z\tfeat: x\n');
    expect(refused(shortSha)).toMatch(/--changes-file .*short\.tsv is not git log .* output: line 1: expected a full 40-character/);
    const long = file('long.tsv', `${sha(1)}\tAda\t2026-11-02T09:00:00Z\t${'x'.repeat(400)}\n`);
    expect(refused(long)).toMatch(/--changes-file .*long\.tsv: changes\[0\]\.subject: expected the commit's subject line/);
    for (const p of [shortSha, long]) rmSync(p);
  });
});
