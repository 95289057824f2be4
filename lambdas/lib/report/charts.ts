import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';
import { formatDuration } from './html.js';
import type { CanaryLook, CanarySeries, LaneSpan, TimelineBar } from './model.js';

/**
 * The report's charts, drawn by Observable Plot into a server-side DOM (linkedom) and kept as
 * static SVG markup: the page needs no script and no network to show them. Plot escapes the
 * text it writes; the only strings from the ledger it draws are environment names and labels.
 */

export interface Chart {
  /** Stable id (`error-rate`, `ratio-errors`, …): the page's anchors and the tests find charts by it. */
  id: string;
  title: string;
  /** One line under the title: what to read in it. */
  note: string;
  /** The figure's markup (an `<svg>`, or a `<figure>` with Plot's legend and the `<svg>`). */
  markup: string;
}

export const COLORS = {
  canary: '#d9480f',
  baseline: '#1c7ed6',
  passed: '#2b8a3e',
  failed: '#c92a2a',
  waiting: '#868e96',
  done: '#495057',
  skipped: '#ced4da',
} as const;

const VERDICTS = ['passed', 'failed', 'waiting', 'done', 'skipped'] as const;
const WIDTH = 900;

function newDocument() {
  return parseHTML('<!doctype html><html><head></head><body></body></html>').document;
}

type PlotOptions = Parameters<typeof Plot.plot>[0];
const draw = (options: PlotOptions): string => (Plot.plot({ ...options, document: newDocument() } as PlotOptions) as unknown as { outerHTML: string }).outerHTML;

/** The release's steps on one time axis (from the release's start), a lane per environment, coloured by verdict; a tick at each decision. */
export function timelineChart(bars: TimelineBar[], lanes: LaneSpan[], startedAt: string): Chart {
  const t0 = Date.parse(startedAt);
  const span = Math.max(1, ...bars.map((b) => Date.parse(b.end) - t0));
  const unit = span >= 2 * 3_600_000 ? { ms: 3_600_000, name: 'hours' } : span >= 120_000 ? { ms: 60_000, name: 'minutes' } : { ms: 1000, name: 'seconds' };
  const at = (iso: string) => (Date.parse(iso) - t0) / unit.ms;
  const rows = bars.map((b) => ({ ...b, x1: at(b.start), x2: Math.max(at(b.end), at(b.start)) }));
  // A bar wide enough for words says what it was and how long it took.
  const wide = rows.filter((r) => (r.x2 - r.x1) / (span / unit.ms) > 0.15).map((r) => ({ ...r, mid: (r.x1 + r.x2) / 2, words: `${r.label} · ${formatDuration(r.ms)}` }));
  const markup = draw({
    width: WIDTH,
    height: 70 + 30 * lanes.length,
    marginLeft: 80,
    x: { label: `${unit.name} since the release started →`, labelAnchor: 'right', grid: true, nice: true },
    y: { domain: lanes.map((l) => l.lane), label: null },
    color: { domain: [...VERDICTS], range: VERDICTS.map((v) => COLORS[v]), legend: true },
    marks: [
      Plot.barX(rows, { x1: 'x1', x2: 'x2', y: 'lane', fill: 'verdict', insetTop: 4, insetBottom: 4 }),
      Plot.tickX(rows, { x: 'x2', y: 'lane', stroke: 'verdict', strokeWidth: 2 }),
      Plot.text(wide, { x: 'mid', y: 'lane', text: 'words', fill: 'white', fontWeight: 'bold' }),
    ],
  });
  return { id: 'timeline', title: 'Steps over time', note: 'Each bar is a step, from the decision before it to its own; a tick marks where each step was decided.', markup };
}

interface Frame {
  looks: CanaryLook[];
  x: Plot.ScaleOptions;
  /** Step boundaries and the judge's verdicts, drawn on every canary chart. */
  marks: Plot.Markish[];
}

/** What every chart of one canary shares: looks on x, a dashed rule where each step begins (labelled with its weight), the verdicts where they happened. */
function frameOf(s: CanarySeries): Frame {
  const n = s.looks.length;
  const every = Math.max(1, Math.ceil(n / 20));
  const ticks = s.looks.map((l) => l.index).filter((i) => (i - 1) % every === 0);
  const starts = s.looks.filter((l, i) => i === 0 || l.step !== s.looks[i - 1]!.step);
  const verdicts = s.verdicts.map((v) => ({ ...v, label: `${v.verdict} at ${v.weight}%` }));
  return {
    looks: s.looks,
    x: { domain: [0.5, n + 0.5], ticks, tickFormat: 'd', label: 'look (one per poll) →', labelAnchor: 'right' },
    marks: [
      Plot.ruleX(starts, { x: (l: CanaryLook) => l.index - 0.5, stroke: '#adb5bd', strokeDasharray: '4,3' }),
      Plot.text(starts, { x: (l: CanaryLook) => l.index - 0.5, frameAnchor: 'top', dy: -14, textAnchor: 'start', dx: 3, text: (l: CanaryLook) => `step ${l.step}: ${l.weight}%`, fill: '#495057' }),
      Plot.ruleX(verdicts, { x: 'index', stroke: (v: { verdict: string }) => (v.verdict === 'passed' ? COLORS.passed : COLORS.failed), strokeWidth: 2 }),
      Plot.text(verdicts, {
        x: 'index',
        frameAnchor: 'top',
        dy: -2,
        textAnchor: 'end',
        dx: -3,
        fontWeight: 'bold',
        text: 'label',
        fill: (v: { verdict: string }) => (v.verdict === 'passed' ? COLORS.passed : COLORS.failed),
      }),
    ],
  };
}

/** Rows of one value per arm and look; `z` keeps each step's line apart (counts start again at each step). */
function perArm(looks: CanaryLook[], value: (l: CanaryLook, arm: 'canary' | 'baseline') => number | null) {
  return looks.flatMap((l) =>
    (['canary', 'baseline'] as const).flatMap((arm) => {
      const v = value(l, arm);
      return v === null ? [] : [{ index: l.index, arm, value: v, z: `${arm} ${l.step}` }];
    }),
  );
}

const armColor = { domain: ['canary', 'baseline'], range: [COLORS.canary, COLORS.baseline], legend: true } as const;

function armChart(f: Frame, rows: { index: number; arm: string; value: number; z: string }[], y: Record<string, unknown>): string {
  return draw({
    width: WIDTH,
    height: 240,
    marginTop: 30,
    marginLeft: 60,
    x: f.x,
    y: { grid: true, zero: true, nice: true, label: null, ...y },
    color: armColor,
    marks: [...f.marks, Plot.line(rows, { x: 'index', y: 'value', stroke: 'arm', z: 'z' }), Plot.dot(rows, { x: 'index', y: 'value', fill: 'arm', r: 3 })],
  });
}

const rate = (events: number, requests: number) => (requests > 0 ? (100 * events) / requests : null);

const METRIC_TITLES: Record<string, string> = { errors: 'errors', latency: 'slow requests (over the tail threshold)', 'latency-shift': 'latency shift (requests over the shift threshold)' };

/** The rate ratio of one test at each look: the point estimate, its confidence sequence (narrowing as requests come in), 1 and the pass margin. */
function ratioChart(s: CanarySeries, f: Frame, metric: string): Chart {
  const rows = s.looks.flatMap((l) => {
    const m = l.metrics.find((x) => x.metric === metric);
    return m ? [{ index: l.index, ...m }] : [];
  });
  const margins = rows.map((r) => r.margin).filter((m): m is number => m !== null);
  const passRatio = s.passRatio;
  const finite = rows.flatMap((r) => [r.hi, r.ratio ?? 0]).filter((v) => v > 0 && v < 1e5);
  const positives = rows.flatMap((r) => [r.lo, r.ratio ?? 0]).filter((v) => v > 0);
  // A log axis cannot show 0 or an unbounded side: they are drawn at its ends (labelled on the axis).
  const floor = Math.max(0.05, Math.min(0.25, ...positives.map((v) => v / 1.5)));
  const ceil = Math.max(4, (passRatio ?? 2) * 2, ...margins.map((m) => m * 1.5), ...finite.map((v) => Math.min(v * 1.2, 100)));
  const clamp = (v: number) => Math.min(ceil, Math.max(floor, v));
  const drawn = rows.map((r) => ({ index: r.index, lo: clamp(r.lo), hi: clamp(r.hi), ratio: r.ratio === null ? null : clamp(r.ratio), margin: r.margin, verdict: r.verdict }));
  const refs = [
    { y: 1, label: 'no change (1×)' },
    ...(passRatio !== null ? [{ y: passRatio, label: `passRatio ${passRatio}×` }] : []),
  ];
  const marginRows = drawn.filter((r) => r.margin !== null && r.margin !== passRatio);
  const markup = draw({
    width: WIDTH,
    height: 260,
    marginTop: 30,
    marginLeft: 60,
    x: f.x,
    y: { type: 'log', domain: [floor, ceil], grid: true, label: null, tickFormat: (v: number) => `${Number(v.toPrecision(2))}×` },
    marks: [
      ...f.marks,
      Plot.ruleX(drawn, { x: 'index', y1: 'lo', y2: 'hi', stroke: COLORS.canary, strokeOpacity: 0.4, strokeWidth: 7 }),
      Plot.ruleY(refs.slice(0, 1), { y: 'y', stroke: '#212529' }),
      Plot.ruleY(refs.slice(1), { y: 'y', stroke: COLORS.failed, strokeDasharray: '6,3' }),
      Plot.text(refs, { y: 'y', frameAnchor: 'right', textAnchor: 'end', dy: -6, text: 'label', fill: '#495057' }),
      ...(marginRows.length ? [Plot.line(marginRows, { x: 'index', y: 'margin', stroke: COLORS.failed, strokeDasharray: '2,2', curve: 'step' }), Plot.text(marginRows.slice(-1), { x: 'index', y: 'margin', dy: -6, textAnchor: 'end', text: (r: { margin: number }) => `margin ${Number(r.margin.toPrecision(3))}×`, fill: COLORS.failed })] : []),
      Plot.dot(
        drawn.filter((r) => r.ratio !== null),
        { x: 'index', y: 'ratio', r: 3.5, fill: (r: { verdict: string }) => (r.verdict === 'pass' ? COLORS.passed : r.verdict === 'fail' ? COLORS.failed : '#212529') },
      ),
    ],
  });
  const unbounded = rows.some((r) => r.hi > ceil);
  const zero = rows.some((r) => r.ratio === 0);
  return {
    id: `ratio-${metric.replace(/[^a-z0-9-]/gi, '-')}`,
    title: `Canary / baseline rate ratio: ${METRIC_TITLES[metric] ?? metric.replace(/^custom:/, '')}, in ${s.environment}`,
    note: `Dots: the canary's rate over the baseline's; bars: the ratio's confidence sequence at each look. The canary passes once the bar is below the margin, fails once it is above 1.${zero ? ' A dot on the bottom edge: no canary events (a ratio of 0).' : ''}${unbounded ? ' A bar reaching the top is unbounded there.' : ''}`,
    markup,
  };
}

/** The charts of one canary: error rates, the ratio of each test, requests per arm, the observed split, slow requests. */
export function canaryCharts(s: CanarySeries): Chart[] {
  const f = frameOf(s);
  const metrics = [...new Set(s.looks.flatMap((l) => l.metrics.map((m) => m.metric)))];
  const env = s.environment;
  const split = s.looks.flatMap((l) => [
    ...(l.observedShare !== null ? [{ index: l.index, series: 'observed', value: 100 * l.observedShare, z: `o${l.step}` }] : []),
    ...(l.expectedShare !== null ? [{ index: l.index, series: 'configured', value: 100 * l.expectedShare, z: `e${l.step}` }] : []),
  ]);
  const charts: Chart[] = [
    {
      id: 'error-rate',
      title: `Error rate (%), canary and baseline, in ${env}`,
      note: 'Errors per request since the step began, in percent.',
      markup: armChart(f, perArm(s.looks, (l, a) => rate(l[a].errors, l[a].requests)), {}),
    },
    ...metrics.map((m) => ratioChart(s, f, m)),
    {
      id: 'requests',
      title: `Requests per arm, in ${env}`,
      note: 'Requests each arm served since the step began (counts start again at each step).',
      markup: armChart(f, perArm(s.looks, (l, a) => l[a].requests), {}),
    },
    {
      id: 'split',
      title: `Canary share of requests (%), in ${env}`,
      note: "The canary's observed share of requests against its configured weight; a share far from it fails the sample-ratio check.",
      markup: draw({
        width: WIDTH,
        height: 220,
        marginTop: 30,
        marginLeft: 60,
        x: f.x,
        y: { grid: true, domain: [0, 100], label: null },
        color: { domain: ['observed', 'configured'], range: [COLORS.canary, '#868e96'], legend: true },
        marks: [
          ...f.marks,
          Plot.line(split.filter((r) => r.series === 'configured'), { x: 'index', y: 'value', stroke: 'series', z: 'z', strokeDasharray: '4,3' }),
          Plot.line(split.filter((r) => r.series === 'observed'), { x: 'index', y: 'value', stroke: 'series', z: 'z' }),
          Plot.dot(split.filter((r) => r.series === 'observed'), { x: 'index', y: 'value', fill: 'series', r: 3 }),
        ],
      }),
    },
    {
      id: 'slow',
      title: `Slow requests per arm, in ${env}`,
      note: 'Requests over the tail threshold since the step began (none are counted until the thresholds are fixed).',
      markup: armChart(f, perArm(s.looks, (l, a) => l[a].slow), {}),
    },
  ];
  return charts;
}
