import { describe, expect, it } from 'vitest';
import { policySchema, type DeployPolicy } from '../../lambdas/lib/policy-config.js';
import { describeWindow, evaluatePolicy } from '../../lambdas/lib/policy.js';
import { instantOf, localDateTime } from '../../lambdas/lib/zoned-time.js';

/** Berlin, 2026: clocks go forward on Sun 29 March (01:00Z) and back on Sun 25 October (01:00Z). */
const policy = (extra: Record<string, unknown> = {}): DeployPolicy =>
  policySchema.parse({
    timezone: 'Europe/Berlin',
    windows: [{ environments: ['prod'], days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '16:00' }],
    approvers: ['alice', 'bob'],
    ...extra,
  });
const at = (iso: string) => new Date(iso);
const YEAR_END = { name: 'year-end', from: '2026-12-21T00:00:00Z', to: '2027-01-04T00:00:00Z', environments: ['prod'] };

describe('deployment windows', () => {
  it('is open inside a window, in the zone\'s wall-clock time on either side of a DST change', () => {
    // 09:30 CET (UTC+1) in March before the change, 09:30 CEST (UTC+2) after it.
    expect(evaluatePolicy(at('2026-03-25T08:30:00Z'), 'prod', policy())).toMatchObject({ open: true });
    expect(evaluatePolicy(at('2026-04-01T07:30:00Z'), 'prod', policy())).toMatchObject({ open: true });
    // 07:30Z was 08:30 CET in March (closed) and 14:30Z is 16:30 CEST in April (closed), though both are inside 08:00–15:00Z in winter.
    expect(evaluatePolicy(at('2026-03-25T07:30:00Z'), 'prod', policy())).toMatchObject({ open: false });
    expect(evaluatePolicy(at('2026-04-01T14:30:00Z'), 'prod', policy())).toMatchObject({ open: false });
  });

  it('is closed at the end minute and open at the start minute', () => {
    expect(evaluatePolicy(at('2026-06-03T07:00:00Z'), 'prod', policy())).toMatchObject({ open: true });
    expect(evaluatePolicy(at('2026-06-03T14:00:00Z'), 'prod', policy())).toMatchObject({ open: false });
  });

  it('after Friday\'s window, opens on Monday 09:00 in the new offset when the clocks went forward over the weekend', () => {
    const s = evaluatePolicy(at('2026-03-27T16:30:00Z'), 'prod', policy());
    expect(s).toMatchObject({ open: false, opensAt: '2026-03-30T07:00:00.000Z', closedBy: [{ kind: 'outside-windows', windows: 'mon–fri 09:00–16:00' }] });
    expect(s.reason).toBe('prod is closed: outside its deployment windows (mon–fri 09:00–16:00, Europe/Berlin); it opens Mon, 30 Mar 2026, 09:00 CEST (2026-03-30T07:00:00.000Z)');
  });

  it('and when they went back, on Monday 09:00 CET', () => {
    expect(evaluatePolicy(at('2026-10-23T15:00:00Z'), 'prod', policy())).toMatchObject({ open: false, opensAt: '2026-10-26T08:00:00.000Z' });
  });

  it('before the window on a weekday, opens the same day', () => {
    expect(evaluatePolicy(at('2026-06-03T05:00:00Z'), 'prod', policy())).toMatchObject({ open: false, opensAt: '2026-06-03T07:00:00.000Z' });
  });

  it('keeps an environment that no window names always open', () => {
    expect(evaluatePolicy(at('2026-03-28T23:00:00Z'), 'staging', policy())).toEqual({ open: true, reason: 'staging is open: no window limits it and no freeze covers it' });
  });

  it('opens inside any of several windows of one environment', () => {
    const p = policy({ windows: [{ environments: ['prod'], days: ['mon'], from: '09:00', to: '12:00' }, { environments: ['prod'], days: ['sat'], from: '10:00', to: '11:00' }] });
    // Friday afternoon: the Saturday window comes first.
    expect(evaluatePolicy(at('2026-06-05T12:00:00Z'), 'prod', p)).toMatchObject({ open: false, opensAt: '2026-06-06T08:00:00.000Z' });
    expect(describeWindow(p.windows[0]!)).toBe('mon 09:00–12:00');
  });

  it('is open whenever no policy is configured', () => {
    expect(evaluatePolicy(at('2026-12-25T03:00:00Z'), 'prod', undefined)).toMatchObject({ open: true });
  });
});

describe('freezes', () => {
  it('close a window they overlap, naming the freeze and its end, and the environment opens at the next window after it', () => {
    // Tuesday 22 December, 11:00 CET: inside the window, inside the freeze.
    const s = evaluatePolicy(at('2026-12-22T10:00:00Z'), 'prod', policy({ freezes: [YEAR_END] }));
    expect(s).toMatchObject({ open: false, closedBy: [{ kind: 'freeze', name: 'year-end', until: '2027-01-04T00:00:00.000Z' }], opensAt: '2027-01-04T08:00:00.000Z' });
    expect(s.reason).toContain('in the freeze "year-end" until Mon, 4 Jan 2027, 01:00 CET');
  });

  it('at night name both the freeze and the window', () => {
    const s = evaluatePolicy(at('2026-12-22T22:00:00Z'), 'prod', policy({ freezes: [YEAR_END] }));
    expect(s.open === false && s.closedBy.map((c) => c.kind)).toEqual(['freeze', 'outside-windows']);
  });

  it('that end inside a window open the environment at their end', () => {
    const s = evaluatePolicy(at('2026-12-22T10:00:00Z'), 'prod', policy({ freezes: [{ ...YEAR_END, to: '2027-01-04T10:00:00Z' }] }));
    expect(s).toMatchObject({ open: false, opensAt: '2027-01-04T10:00:00.000Z' });
  });

  it('chain: back-to-back freezes open at the end of the last', () => {
    const s = evaluatePolicy(at('2026-12-22T10:00:00Z'), 'staging', policy({ freezes: [{ name: 'a', from: '2026-12-20T00:00:00Z', to: '2026-12-24T00:00:00Z' }, { name: 'b', from: '2026-12-23T00:00:00Z', to: '2026-12-28T12:00:00Z' }] }));
    expect(s).toMatchObject({ open: false, opensAt: '2026-12-28T12:00:00.000Z' });
  });

  it('cover every environment when they name none, and only theirs otherwise', () => {
    const all = policy({ freezes: [{ name: 'migration', from: '2026-05-01T00:00:00Z', to: '2026-05-02T00:00:00Z' }] });
    expect(evaluatePolicy(at('2026-05-01T12:00:00Z'), 'dev', all)).toMatchObject({ open: false, opensAt: '2026-05-02T00:00:00.000Z' });
    expect(evaluatePolicy(at('2026-12-22T10:00:00Z'), 'dev', policy({ freezes: [YEAR_END] }))).toMatchObject({ open: true });
  });

  it('say so when nothing opens within the search horizon', () => {
    const s = evaluatePolicy(at('2026-12-22T10:00:00Z'), 'prod', policy({ freezes: [{ ...YEAR_END, to: '2029-01-01T00:00:00Z' }] }));
    expect(s.open).toBe(false);
    expect(s.open === false && s.opensAt).toBeUndefined();
    expect(s.reason).toContain('it does not open within 400 days');
  });
});

describe('wall-clock times in a zone', () => {
  it('move a time the spring-forward skips by the gap, and take the earlier of a repeated one', () => {
    expect(new Date(instantOf({ year: 2026, month: 3, day: 29 }, 150, 'Europe/Berlin')).toISOString()).toBe('2026-03-29T01:30:00.000Z'); // 02:30 → 03:30 CEST
    expect(new Date(instantOf({ year: 2026, month: 10, day: 25 }, 150, 'Europe/Berlin')).toISOString()).toBe('2026-10-25T00:30:00.000Z'); // the first 02:30 (CEST)
    expect(new Date(instantOf({ year: 2026, month: 7, day: 1 }, 1440, 'America/New_York')).toISOString()).toBe('2026-07-02T04:00:00.000Z'); // 24:00 is next midnight
    expect(localDateTime(Date.parse('2026-03-29T01:30:00Z'), 'Europe/Berlin')).toMatchObject({ day: 29, hour: 3, minute: 30 });
  });
});
