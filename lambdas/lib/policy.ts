import type { DeployPolicy, DeployWindow, Freeze } from './policy-config.js';
import type { LedgerFreeze } from './ports.js';
import { WEEKDAYS } from './policy-constants.js';
import { addDays, formatLocal, instantOf, localDateTime, minutesOf, weekdayOf } from './zoned-time.js';

/**
 * Whether an environment may be deployed to at an instant, and if not, why and when it next
 * may. Pure: the time comes in, nothing is read from the clock or the world.
 *
 * Windows are allowed periods: an environment that any window names is open only inside one
 * of its windows; one that none names is open whenever no freeze covers it. Freezes block,
 * also inside a window. Window days and times are wall-clock times in `policy.timezone`.
 */

export type ClosedBy = { kind: 'freeze'; name: string; until: string; reason?: string; frozenBy?: string } | { kind: 'outside-windows'; windows: string };

export type PolicyStatus =
  | { open: true; reason: string }
  | {
      open: false;
      /** What is closed and until when, for people. */
      reason: string;
      closedBy: ClosedBy[];
      /** The first instant it is open again; absent when that is not within `SEARCH_DAYS`. */
      opensAt?: string;
    };

/** How far ahead the next opening is looked for (a freeze may last weeks; a year covers any sane one). */
export const SEARCH_DAYS = 400;

interface Interval {
  start: number;
  end: number;
  window: DeployWindow;
}

const DAY_INDEX = Object.fromEntries(WEEKDAYS.map((d, i) => [d, i])) as Record<string, number>;

/** "mon–fri 09:00–16:00": consecutive days as a range. */
export function describeWindow(w: DeployWindow): string {
  const days = [...new Set(w.days)].sort((a, b) => ((DAY_INDEX[a]! + 6) % 7) - ((DAY_INDEX[b]! + 6) % 7));
  const idx = days.map((d) => (DAY_INDEX[d]! + 6) % 7);
  const consecutive = idx.every((v, i) => i === 0 || v === idx[i - 1]! + 1);
  const dayText = consecutive && days.length > 2 ? `${days[0]}–${days.at(-1)}` : days.join(',');
  return `${dayText} ${w.from}–${w.to}`;
}

/**
 * The policy of a config without one (`policySchema`'s defaults, written out so that the policy
 * step loads no validator): what ledger freezes are merged into when the config has no policy.
 */
export const UNCONFIGURED_POLICY: DeployPolicy = { timezone: 'UTC', windows: [], freezes: [], approvers: [], githubLogins: {}, maxWaitHours: 72, approvalTimeoutHours: 24 };

/** A freeze as the policy evaluates it: the config's, or one from the ledger with who declared it. */
export type PolicyFreeze = Freeze & { frozenBy?: string };

/**
 * The policy with the ledger's freezes (`tagflow freeze`) that apply to `service` merged into
 * its `freezes`, so that one code path decides: an unfrozen freeze ends when it was unfrozen.
 */
export function withLedgerFreezes(policy: DeployPolicy, ledgerFreezes: readonly LedgerFreeze[], service: string): DeployPolicy {
  const merged: PolicyFreeze[] = [...policy.freezes];
  for (const f of ledgerFreezes) {
    if (f.service !== undefined && f.service !== service) continue;
    const to = f.unfrozenAt !== undefined && Date.parse(f.unfrozenAt) < Date.parse(f.until) ? f.unfrozenAt : f.until;
    if (!(Date.parse(f.from) < Date.parse(to))) continue;
    merged.push({ name: f.name, from: f.from, to, environments: f.environments, reason: f.reason, frozenBy: f.frozenBy });
  }
  return { ...policy, freezes: merged };
}

const covers = (f: Freeze, environment: string) => !f.environments || f.environments.includes(environment);

/** The environment's windows that fall on the local dates from `date - 1` to `date + spanDays`, as instants. */
function windowIntervals(windows: DeployWindow[], fromMs: number, spanDays: number, timeZone: string): Interval[] {
  const { year, month, day } = localDateTime(fromMs, timeZone);
  const out: Interval[] = [];
  for (let offset = -1; offset <= spanDays; offset++) {
    const date = addDays({ year, month, day }, offset);
    const weekday = WEEKDAYS[weekdayOf(date)]!;
    for (const window of windows) {
      if (!window.days.includes(weekday)) continue;
      out.push({ start: instantOf(date, minutesOf(window.from), timeZone), end: instantOf(date, minutesOf(window.to), timeZone), window });
    }
  }
  return out;
}

/** The earliest instant at or after `fromMs` when the environment is open, if within `SEARCH_DAYS`. */
function nextOpening(fromMs: number, environment: string, policy: DeployPolicy): number | undefined {
  const windows = policy.windows.filter((w) => w.environments.includes(environment));
  const freezes = policy.freezes.filter((f) => covers(f, environment));
  const horizon = fromMs + SEARCH_DAYS * 86_400_000;
  let t = fromMs;
  // Each pass moves t to a freeze's end or a window's start, so this ends.
  for (let pass = 0; pass < 10_000 && t <= horizon; pass++) {
    const blocking = freezes.filter((f) => Date.parse(f.from) <= t && t < Date.parse(f.to));
    if (blocking.length) {
      t = Math.max(...blocking.map((f) => Date.parse(f.to)));
      continue;
    }
    if (windows.length === 0) return t;
    const intervals = windowIntervals(windows, t, 8, policy.timezone);
    if (intervals.some((i) => i.start <= t && t < i.end)) return t;
    const next = intervals.filter((i) => i.start > t).map((i) => i.start);
    if (next.length === 0) return undefined;
    t = Math.min(...next);
  }
  return undefined;
}

/** Open or closed at `now`, with the reason, and when closed, when it opens. */
export function evaluatePolicy(now: Date, environment: string, policy: DeployPolicy | undefined): PolicyStatus {
  if (!policy) return { open: true, reason: `${environment} is open: no deployment policy is configured` };
  const t = now.getTime();
  const tz = policy.timezone;
  const windows = policy.windows.filter((w) => w.environments.includes(environment));
  const windowText = windows.map(describeWindow).join('; ');
  const closedBy: ClosedBy[] = [];

  for (const f of (policy.freezes as PolicyFreeze[]).filter((fr) => covers(fr, environment) && Date.parse(fr.from) <= t && t < Date.parse(fr.to))) {
    closedBy.push({ kind: 'freeze', name: f.name, until: new Date(Date.parse(f.to)).toISOString(), ...(f.reason ? { reason: f.reason } : {}), ...(f.frozenBy ? { frozenBy: f.frozenBy } : {}) });
  }
  const inWindow = windows.length === 0 || windowIntervals(windows, t, 0, tz).some((i) => i.start <= t && t < i.end);
  if (!inWindow) closedBy.push({ kind: 'outside-windows', windows: windowText });

  if (closedBy.length === 0) {
    return { open: true, reason: windows.length ? `${environment} is open: inside its deployment window (${windowText}, ${tz})` : `${environment} is open: no window limits it and no freeze covers it` };
  }

  const causes = closedBy.map((c) =>
    c.kind === 'freeze'
      ? `in the freeze "${c.name}"${c.frozenBy ? ` (declared by ${c.frozenBy})` : ''} until ${formatLocal(Date.parse(c.until), tz)}${c.reason ? ` (${c.reason})` : ''}`
      : `outside its deployment windows (${c.windows}, ${tz})`,
  );
  const opens = nextOpening(t, environment, policy);
  const when = opens === undefined ? `it does not open within ${SEARCH_DAYS} days` : `it opens ${formatLocal(opens, tz)} (${new Date(opens).toISOString()})`;
  return {
    open: false,
    reason: `${environment} is closed: ${causes.join(' and ')}; ${when}`,
    closedBy,
    ...(opens !== undefined ? { opensAt: new Date(opens).toISOString() } : {}),
  };
}
