import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { escapeHtml, formatDuration } from '../../lambdas/lib/report/html.js';
import { reportModel, type ReleaseData } from '../../lambdas/lib/report/model.js';
import { renderReport } from '../../lambdas/lib/report/render.js';
import { launchChromium } from '../support/chromium.js';
import type { Decision } from '../../lambdas/lib/types.js';

/**
 * The release report without a browser: what the page says (verdict, plan, timeline, approvals,
 * the canary's series), that it stands alone (no script, nothing fetched), and that every ledger
 * string is escaped. test/integration/report-browser.test.ts opens a real release's report in
 * Chromium.
 */

const XSS = '<script>alert("x")</script>';
const T0 = Date.parse('2026-11-30T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const base = { releaseId: 'api@v2.0.0', service: 'api', version: 'v2.0.0' };
const d = (seconds: number, step: string, verdict: Decision['verdict'], summary: string, more: Partial<Decision> = {}): Decision => ({ ...base, at: at(seconds), step, verdict, summary, ...more });

/** One look of the judge as canary.ts records it: cumulative counts since the step began. */
function look(seconds: number, verdict: Decision['verdict'], o: { weight: number; step: number; poll: number; canary: [number, number, number]; baseline: [number, number, number]; interval: [number, number]; judge: string }): Decision {
  const [cr, ce, cs] = o.canary;
  const [br, be, bs] = o.baseline;
  return d(seconds, 'judge', verdict, `canary v2.0.0 ${verdict} in prod at ${o.weight}% (look ${o.poll}/15)`, {
    environment: 'prod',
    evidence: {
      weight: o.weight,
      step: o.step,
      poll: o.poll,
      of: 15,
      counts: { canary: { requests: cr, errors: ce, slow: cs, slowShift: cs * 2 }, baseline: { requests: br, errors: be, slow: bs, slowShift: bs * 2 } },
      judgement: {
        verdict: o.judge,
        reason: 'r',
        metrics: [
          { metric: 'errors', canary: { events: ce, requests: cr }, baseline: { events: be, requests: br }, ratio: br && be ? ce / cr / (be / br) : null, interval: o.interval, pValue: 1, margin: 4, verdict: o.judge },
          { metric: 'latency', canary: { events: cs, requests: cr }, baseline: { events: bs, requests: br }, ratio: 1, interval: [0.5, 1.5], pValue: 1, margin: 4, verdict: o.judge },
        ],
        srm: { expectedShare: o.weight / 100, observedShare: cr / (cr + br), pValue: 1, failed: false },
      },
    },
  });
}

const decisions: Decision[] = [
  d(1, 'claim', 'passed', 'release claimed; plan dev → prod'),
  d(3, 'tests-gate', 'passed', `2 suites green; commit says ${XSS}`),
  d(10, 'promote', 'passed', 'copied to dev', { environment: 'dev' }),
  d(12, 'deploy', 'done', 'dev now serves v2.0.0', { environment: 'dev' }),
  d(15, 'record-stage', 'passed', 'dev runs v2.0.0', { environment: 'dev' }),
  d(20, 'approval', 'waiting', 'emergency: two approvers needed', { environment: 'prod', evidence: { kind: 'emergency' } }),
  d(80, 'approval', 'passed', 'approved by alice and bob', {
    environment: 'prod',
    evidence: { kind: 'emergency', decision: 'approve', approvals: [{ approver: 'arn:aws:iam::111122223333:user/alice', at: at(50) }, { approver: `arn:aws:iam::111122223333:user/${XSS}`, at: at(79) }] },
  }),
  d(90, 'promote', 'passed', 'copied to prod', { environment: 'prod' }),
  d(95, 'canary', 'done', 'canary v2.0.0 gets 10% of prod beside v1.0.0', { environment: 'prod' }),
  look(155, 'waiting', { weight: 10, step: 1, poll: 1, canary: [40, 0, 0], baseline: [360, 4, 0], interval: [0, 1e6], judge: 'inconclusive' }),
  d(215, 'plan', 'done', 'canary v2.0.0 in prod at 10%: plan: bake 15 min', { environment: 'prod', evidence: { plan: { summary: 'plan: bake 15 min from the traffic' } } }),
  look(215, 'waiting', { weight: 10, step: 1, poll: 2, canary: [80, 1, 5], baseline: [720, 8, 50], interval: [0.1, 9] , judge: 'inconclusive' }),
  look(275, 'passed', { weight: 10, step: 1, poll: 3, canary: [120, 1, 8], baseline: [1080, 12, 75], interval: [0.1, 3], judge: 'pass' }),
  d(276, 'canary', 'done', 'canary v2.0.0 moved to 50% of prod', { environment: 'prod' }),
  look(336, 'passed', { weight: 50, step: 2, poll: 1, canary: [200, 2, 14], baseline: [200, 3, 15], interval: [0.2, 2.5], judge: 'pass' }),
  d(337, 'canary', 'done', 'v2.0.0 now has all of prod', { environment: 'prod' }),
  d(340, 'smoke', 'passed', 'smoke checks passed in prod', { environment: 'prod', evidence: { checks: [{ name: XSS }] } }),
  d(341, 'record-stage', 'passed', 'prod runs v2.0.0', { environment: 'prod' }),
];

const data: ReleaseData = {
  release: {
    ...base,
    trigger: { kind: 'tag-push', detail: `acme/api ${XSS}` },
    commit: 'a'.repeat(40),
    executionId: 'arn:aws:states:us-east-1:111122223333:execution:release:x',
    startedAt: at(0),
    plan: ['dev', 'prod'],
    configSnapshot: JSON.stringify({ environments: [{ name: 'dev' }, { name: 'prod', canary: { passRatio: 4 } }] }),
  },
  outcome: { ...base, outcome: 'succeeded', reason: `v2.0.0 is live in dev, prod ${XSS}`, environments: ['dev', 'prod'], finishedAt: at(342), executionId: 'x' },
  // The ledger's order is not the report's: it sorts by time.
  decisions: [...decisions].reverse(),
};

const html = renderReport(data, { generatedAt: at(400) });
const { document } = parseHTML(html);
const text = (selector: string) => document.querySelector(selector)?.textContent ?? '';

describe('release report', () => {
  it('stands alone: no script, no stylesheet or image to fetch, nothing but inline CSS and SVG', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(|@import/i);
    // No URL at all (inline SVG in HTML needs no namespace), where this release's ledger strings hold none.
    expect(html).not.toMatch(/https?:\/\//);
    expect(document.querySelectorAll('style').length).toBeGreaterThan(0);
  });

  it('escapes every ledger string: a commit message, a reason, an approver, a trigger, evidence', () => {
    expect(html).not.toContain(XSS);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    // Read back as text, they are what the ledger holds.
    expect(text('#verdict')).toContain(`v2.0.0 is live in dev, prod ${XSS}`);
    expect(text('#approvals')).toContain(`user/${XSS}`);
    expect(text('header .meta')).toContain(`acme/api ${XSS}`);
    expect(escapeHtml(`a&b<c>"d'`)).toBe('a&amp;b&lt;c&gt;&quot;d&#39;');
  });

  it('leads with the verdict and the reason', () => {
    expect(document.querySelector('title')?.textContent).toBe('api v2.0.0: succeeded');
    expect(text('#verdict .verdict')).toBe('Succeeded');
    expect(document.querySelector('#verdict .verdict')?.getAttribute('class')).toBe('verdict succeeded');
    expect(text('header .meta')).toContain('finished 2026-11-30 10:05:42 UTC (5 min 42 s)');
  });

  it('shows the plan, each environment reached, and each step on the timeline with its duration', () => {
    const plan = Array.from(document.querySelectorAll('#plan tbody tr')).map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent));
    expect(plan).toEqual([
      ['1', 'dev', 'reached', '2026-11-30 10:00:03 UTC', '12 s'],
      ['2', 'prod', 'reached', '2026-11-30 10:00:15 UTC', '5 min 26 s'],
    ]);
    const m = reportModel(data);
    expect(m.timeline.map((b) => [b.lane, b.label, b.ms / 1000, b.decisions])).toEqual([
      ['release', 'claim', 1, 1],
      ['release', 'tests-gate', 2, 1],
      ['dev', 'promote', 7, 1],
      ['dev', 'deploy', 2, 1],
      ['dev', 'record-stage', 3, 1],
      // Waiting for approvers: from the request to the second approval.
      ['prod', 'approval', 65, 2],
      ['prod', 'promote', 10, 1],
      ['prod', 'canary', 5, 1],
      // The bake plan is a decision within a look, not a step of its own.
      ['prod', 'judge at 10%', 180, 3],
      ['prod', 'canary', 1, 1],
      ['prod', 'judge at 50%', 60, 1],
      ['prod', 'canary', 1, 1],
      ['prod', 'smoke', 3, 1],
      ['prod', 'record-stage', 1, 1],
    ]);
    const rows = Array.from(document.querySelectorAll('#timeline tbody tr')).map((tr) => tr.textContent);
    expect(rows).toHaveLength(14);
    expect(rows[8]).toContain('judge at 10% (3 decisions)');
    expect(rows[8]).toContain('3 min 0 s');
    expect(document.querySelectorAll('#chart-timeline svg rect').length).toBeGreaterThanOrEqual(14);
  });

  it('lists who approved and when', () => {
    const rows = Array.from(document.querySelectorAll('#approvals tbody tr')).map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent));
    expect(rows).toEqual([
      ['prod', 'emergency', 'approved', 'arn:aws:iam::111122223333:user/alice', '2026-11-30 10:00:50 UTC', ''],
      ['prod', 'emergency', 'approved', `arn:aws:iam::111122223333:user/${XSS}`, '2026-11-30 10:01:19 UTC', ''],
    ]);
  });

  it("reads the canary's looks: error rates, the ratio's interval, requests, the split, slow requests, and where the verdicts fell", () => {
    const [canary] = reportModel(data).canaries;
    expect(canary!.environment).toBe('prod');
    expect(canary!.passRatio).toBe(4);
    expect(canary!.looks.map((l) => [l.index, l.step, l.weight, l.poll, l.canary.requests, l.baseline.errors, l.canary.slow])).toEqual([
      [1, 1, 10, 1, 40, 4, 0],
      [2, 1, 10, 2, 80, 8, 5],
      [3, 1, 10, 3, 120, 12, 8],
      [4, 2, 50, 1, 200, 3, 14],
    ]);
    expect(canary!.looks.map((l) => l.metrics.find((x) => x.metric === 'errors')!.hi)).toEqual([1e6, 9, 3, 2.5]);
    expect(canary!.looks.map((l) => l.observedShare)).toEqual([0.1, 0.1, 0.1, 0.5]);
    expect(canary!.verdicts.map((v) => [v.index, v.weight, v.verdict])).toEqual([
      [3, 10, 'passed'],
      [4, 50, 'passed'],
    ]);
    expect(canary!.plans).toEqual([{ step: 1, weight: 10, summary: 'plan: bake 15 min from the traffic' }]);
  });

  it('draws each canary chart with a point per look and arm, and marks the verdicts', () => {
    const ids = Array.from(document.querySelectorAll('#canary-prod figure.chart')).map((f) => f.getAttribute('data-chart'));
    expect(ids).toEqual(['error-rate', 'ratio-errors', 'ratio-latency', 'requests', 'split', 'slow']);
    const svg = (id: string) => document.querySelector(`#canary-prod [data-chart="${id}"] svg:not([width="15"])`)!;
    // Error rates, requests and slow counts: canary and baseline at each of the 4 looks.
    for (const id of ['error-rate', 'requests', 'slow']) expect(svg(id).querySelectorAll('circle').length, id).toBe(8);
    // The ratio: a point per look with a ratio (the first look's baseline had errors), and its interval.
    expect(svg('ratio-errors').querySelectorAll('circle').length).toBe(4);
    expect(svg('ratio-errors').textContent).toContain('passRatio 4×');
    // The observed share at each look.
    expect(svg('split').querySelectorAll('circle').length).toBe(4);
    for (const id of ids) {
      const labels = svg(id!).textContent!;
      expect(labels, id!).toContain('passed at 10%');
      expect(labels, id!).toContain('passed at 50%');
      expect(labels, id!).toContain('step 2: 50%');
    }
  });

  it('keeps every decision with its evidence', () => {
    const rows = document.querySelectorAll('#decisions tbody tr');
    expect(rows).toHaveLength(decisions.length);
    expect(rows[rows.length - 2]!.querySelector('pre')!.textContent).toContain(`"name": "${XSS.replace(/"/g, '\\"')}"`);
  });

  it('says when there is no outcome yet, and a release without a canary draws no canary section', () => {
    const running = renderReport({ ...data, outcome: undefined, decisions: decisions.slice(0, 5) });
    const doc = parseHTML(running).document;
    expect(doc.querySelector('#verdict .verdict')?.textContent).toBe('In progress');
    expect(doc.querySelector('#verdict')?.textContent).toContain('no outcome yet');
    expect(doc.querySelectorAll('section.canary')).toHaveLength(0);
    expect(Array.from(doc.querySelectorAll('#plan tbody tr')).map((tr) => tr.querySelectorAll('td')[2]!.textContent)).toEqual(['in progress', 'not entered']);
  });

  it("a retried release: the timeline is the current attempt's, the earlier attempt is named, every decision is kept", () => {
    const old = d(-590, 'tests-gate', 'failed', `1 suite red ${XSS}`);
    const retried: ReleaseData = {
      ...data,
      release: { ...data.release, attempt: 2, attempts: [{ attempt: 1, executionId: 'e1', startedAt: at(-600), outcome: 'failed', reason: `TestsFailed: 1 suite red ${XSS}`, finishedAt: at(-589) }] },
      decisions: [old, ...decisions],
    };
    const m = reportModel(retried);
    expect(m.timeline[0]).toMatchObject({ lane: 'release', label: 'claim', start: at(0) });
    expect(m.timeline).toHaveLength(14);
    const doc = parseHTML(renderReport(retried)).document;
    expect(doc.querySelector('ul.attempts')?.textContent).toBe(`attempt 1, started 2026-11-30 09:50:00 UTC: failed — TestsFailed: 1 suite red ${XSS}`);
    expect(doc.querySelectorAll('#decisions tbody tr')).toHaveLength(decisions.length + 1);
  });

  it('formats durations for people', () => {
    expect([850, 12_400, 185_000, 7_800_000].map(formatDuration)).toEqual(['850 ms', '12.4 s', '3 min 5 s', '2 h 10 min']);
  });

  it('its browser test fails, saying how to install Chromium, when there is none', async () => {
    await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow('no Chromium at /nonexistent/chromium: install Debian\'s package (sudo apt-get install -y chromium; .ci/run does it when missing) or set CHROMIUM_PATH');
  });
});
