import type { BuildManifest, ChangeEntry } from './types.js';

/**
 * A release's notes: the commits its build lists in `changes` that the previous known-good
 * version of an environment did not hold, grouped by conventional-commit type. Pure: the
 * manifests are read elsewhere (release-notes-source.ts).
 */

/** `git log --format` whose lines `parseChangeLog` reads: SHA, author, author date, subject, tab-separated. */
export const CHANGE_LOG_FORMAT = '%H%x09%an%x09%aI%x09%s';

/**
 * The lines of `git log --format='%H%x09%an%x09%aI%x09%s' PREV..TAG` as changes, newest first.
 * A line may also be just `SHA<tab>subject`. Throws naming the line when one is not of that form.
 */
export function parseChangeLog(text: string, source = 'the change log'): ChangeEntry[] {
  const problems: string[] = [];
  const out: ChangeEntry[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const parts = line.split('\t');
    const sha = parts[0]!.trim();
    const [author, date, ...rest] = parts.length >= 4 ? parts.slice(1) : [undefined, undefined, ...parts.slice(1)];
    const subject = rest.join('\t').trim();
    if (!/^[0-9a-f]{40}$/.test(sha)) problems.push(`line ${i + 1}: expected a full 40-character lower-case commit SHA first, got ${JSON.stringify(sha.slice(0, 60))}`);
    else if (subject === '') problems.push(`line ${i + 1}: no subject after the SHA (expected SHA, author, date and subject separated by tabs)`);
    else out.push({ sha, subject, ...(author ? { author: author.trim() } : {}), ...(date ? { date: date.trim() } : {}) });
  });
  if (problems.length) throw new Error(`${source} is not git log --format='${CHANGE_LOG_FORMAT}' output: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
  return out;
}

/** A change's conventional-commit reading: `type(scope)!: description`; no type when the subject is not one. */
export interface ClassifiedChange extends ChangeEntry {
  type?: string;
  scope?: string;
  breaking: boolean;
  description: string;
}

const CONVENTIONAL = /^([A-Za-z]+)(?:\(([^()]*)\))?(!)?:\s*(\S.*)$/;

export function classify(change: ChangeEntry): ClassifiedChange {
  const m = CONVENTIONAL.exec(change.subject);
  const breakingNote = /BREAKING[ -]CHANGE/.test(change.subject);
  if (!m) return { ...change, breaking: breakingNote, description: change.subject };
  return { ...change, type: m[1]!.toLowerCase(), ...(m[2] ? { scope: m[2] } : {}), breaking: m[3] === '!' || breakingNote, description: m[4]! };
}

export interface NoteGroup {
  /** `breaking`, a conventional type (`feat`, `fix`, …), or `other`. */
  key: string;
  title: string;
  changes: ClassifiedChange[];
}

const TITLES: Record<string, string> = {
  breaking: 'Breaking changes',
  feat: 'Features',
  fix: 'Fixes',
  perf: 'Performance',
  revert: 'Reverts',
  refactor: 'Refactoring',
  docs: 'Documentation',
  test: 'Tests',
  build: 'Build',
  ci: 'CI',
  style: 'Style',
  chore: 'Chores',
};
const ORDER = Object.keys(TITLES);
const rank = (key: string) => (key === 'other' ? Number.MAX_SAFE_INTEGER : ORDER.includes(key) ? ORDER.indexOf(key) : ORDER.length);

/** Breaking changes first (whatever their type), then by type in a fixed order, unknown types by name, non-conventional last; newest first within a group. */
export function groupChanges(changes: readonly ChangeEntry[]): NoteGroup[] {
  const groups = new Map<string, ClassifiedChange[]>();
  for (const c of changes.map(classify)) {
    const key = c.breaking ? 'breaking' : (c.type ?? 'other');
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([key, list]) => ({ key, title: TITLES[key] ?? (key === 'other' ? 'Other' : key), changes: list }));
}

/**
 * The build's changes the previous version did not hold: those listed before the previous
 * version's commit (its tag's commit is where `PREV..TAG` starts), and none of the previous
 * build's `commits` or `changes`. Without a previous version: all of them.
 */
export function changesSince(current: Pick<BuildManifest, 'changes'>, previous?: Pick<BuildManifest, 'commit' | 'commits' | 'changes'>): ChangeEntry[] {
  const listed = current.changes ?? [];
  if (!previous) return [...listed];
  const cut = listed.findIndex((c) => c.sha === previous.commit);
  const held = new Set([previous.commit, ...(previous.commits ?? []), ...(previous.changes ?? []).map((c) => c.sha)]);
  return (cut >= 0 ? listed.slice(0, cut) : listed).filter((c) => !held.has(c.sha));
}

export interface ReleaseNotes {
  service: string;
  version: string;
  /** The environment whose previous known-good version the notes start from, if any. */
  environment?: string;
  /** That version; absent when there was none (the notes list every change the build gives). */
  since?: string;
  /** False when the build's manifest lists no `changes` at all (CI did not upload them). */
  listed: boolean;
  changes: ChangeEntry[];
  groups: NoteGroup[];
}

export function releaseNotes(args: { service: string; version: string; environment?: string | undefined; since?: string | undefined; current: Pick<BuildManifest, 'changes'>; previous?: Pick<BuildManifest, 'commit' | 'commits' | 'changes'> | undefined }): ReleaseNotes {
  const changes = changesSince(args.current, args.previous);
  return {
    service: args.service,
    version: args.version,
    ...(args.environment ? { environment: args.environment } : {}),
    ...(args.since ? { since: args.since } : {}),
    listed: args.current.changes !== undefined,
    changes,
    groups: groupChanges(changes),
  };
}

/**
 * "3 changes: 1 feat, 2 fix": counts only, made of words tagflow chose and conventional types
 * (letters only), so it is safe to paste into a notification line (notifications.ts), which
 * EventBridge does not escape. Never a commit subject.
 */
export function notesSummary(notes: Pick<ReleaseNotes, 'groups' | 'changes' | 'listed'>): string {
  if (!notes.listed) return 'no changes listed';
  const n = notes.changes.length;
  if (n === 0) return 'no new changes';
  const parts = notes.groups.map((g) => `${g.changes.length} ${g.key}`);
  return `${n} change${n === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

const short = (sha: string) => sha.slice(0, 7);
const entryText = (c: ClassifiedChange) => `${c.scope ? `${c.scope}: ` : ''}${c.description}${c.breaking && c.type ? ` (${c.type})` : ''}`;

function heading(n: ReleaseNotes): string {
  return `${n.service} ${n.version}${n.since ? ` since ${n.since}${n.environment ? ` (known-good in ${n.environment})` : ''}` : ''}: ${notesSummary(n)}`;
}

/** Plain lines for a terminal. */
export function notesText(n: ReleaseNotes): string[] {
  const lines = [heading(n)];
  for (const g of n.groups) {
    lines.push('', `${g.title}:`);
    for (const c of g.changes) lines.push(`  - ${entryText(c)} (${short(c.sha)}${c.author ? `, ${c.author}` : ''})`);
  }
  return lines;
}

/** Markdown text that reads as itself: GitHub would otherwise turn `<`, `*`, `_`… in a subject into markup. */
export const escapeMarkdown = (s: string): string => s.replace(/[\\`*_{}[\]()<>#+!|~&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : `\\${c}`));

/** A GitHub release body. */
export function notesMarkdown(n: ReleaseNotes): string {
  const out = [`## ${escapeMarkdown(n.service)} ${escapeMarkdown(n.version)}`, '', n.since ? `Changes since ${escapeMarkdown(n.since)}${n.environment ? ` (the previous known-good version in ${escapeMarkdown(n.environment)})` : ''}: ${notesSummary(n)}.` : `${notesSummary(n)}.`];
  for (const g of n.groups) {
    out.push('', `### ${g.title}`, '');
    for (const c of g.changes) out.push(`- ${c.scope ? `**${escapeMarkdown(c.scope)}:** ` : ''}${escapeMarkdown(c.description)}${c.breaking && c.type ? ` (${c.type})` : ''} (${short(c.sha)}${c.author ? `, ${escapeMarkdown(c.author)}` : ''})`);
  }
  return `${out.join('\n')}\n`;
}
