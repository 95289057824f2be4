import { createHash } from 'node:crypto';
import type { ChangeEntry } from '../lambdas/lib/types.js';

/**
 * The demo service's git history, as CI lists it in each build's `changes` (`git log
 * --format='%H%x09%an%x09%aI%x09%s' -n 50 TAG`): one line of conventional commits, each
 * version's tag on the newest of its own. Each build lists the whole history up to its tag, so
 * the notes of v1.3.0 in prod, where v1.0.0 was the last known-good version, hold the commits
 * of v1.1.0 and v1.2.0 too: they reach prod's users for the first time.
 */

/** A stable made-up SHA for a commit that is not a tag's. */
const sha = (label: string) => createHash('sha1').update(`demo ${label}`).digest('hex');

interface Commit {
  sha: string;
  subject: string;
  author: string;
}

/** Oldest first, per version: the commits that version's tag added, its tagged commit last. */
function history(tags: Record<string, string>): [string, Commit[]][] {
  const c = (subject: string, author: string, tagged?: string): Commit => ({ sha: tagged ? tags[tagged]! : sha(subject), subject, author });
  return [
    ['v1.0.0', [c('chore: project skeleton', 'Grace Hopper'), c('feat: health check at /health', 'Grace Hopper'), c("feat(orders): list a customer's orders at /api/orders", 'Ada Lovelace', 'v1.0.0')]],
    ['v1.1.0', [c('docs: describe the orders API', 'Ada Lovelace'), c('feat(orders)!: read orders from the new store', 'Alan Turing', 'v1.1.0')]],
    ['v1.2.0', [c('fix(orders): answer /api/orders again after the store move', 'Alan Turing'), c('perf(orders): cache order reads', 'Alan Turing', 'v1.2.0')]],
    ['v1.3.0', [c('refactor: one HTTP client for upstream calls', 'Grace Hopper'), c('fix(orders): drop the order cache that failed reads', 'Ada Lovelace'), c('fix(upstream): retry a timed-out upstream call once', 'Grace Hopper', 'v1.3.0')]],
  ];
}

/** Each build's `changes`, newest first: every commit up to its tag, a minute apart. */
export function demoChanges(builds: readonly { version: string; commit: string }[]): Map<string, ChangeEntry[]> {
  const tags = Object.fromEntries(builds.map((b) => [b.version, b.commit]));
  const all: ChangeEntry[] = [];
  const out = new Map<string, ChangeEntry[]>();
  for (const [version, commits] of history(tags)) {
    for (const k of commits) all.unshift({ ...k, date: new Date(Date.UTC(2026, 10, 2, 9, all.length)).toISOString() });
    out.set(version, [...all]);
  }
  return out;
}
