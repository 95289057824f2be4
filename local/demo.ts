import './runtime/polyfills.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { follow } from './cli/main.js';
import { loadConfigFile } from './cli/config-file.js';
import { dim, green, red } from './cli/progress.js';
import { statusTable } from './cli/status.js';
import type { CanaryStepInput } from '../lambdas/lib/steps/canary.js';
import { reportTests } from './runtime/ci.js';
import { LOCAL_LOCATIONS, LocalRuntime } from './runtime/runtime.js';
import { STEP_RUNS } from './runtime/step-runs.js';
import { sendRequests } from './runtime/traffic.js';
import { DEMO_TRAIN, publishTrainBuilds, trainLines, withDemoTrain } from './demo-train.js';
import { demoChanges } from './demo-changes.js';
import { demoSupplyChain, publishDemoBuild, supplyChainLines } from './demo-supply-chain.js';

/**
 * `npm run demo`: CI publishes four builds of the demo service. v1.0.0 ships dev → staging →
 * prod; v1.1.0 breaks /api/orders, fails staging's smoke tests and is rolled back there;
 * v1.2.0 passes every smoke test but fails five times as many order reads: it reaches prod's
 * canary, where the judge fails it on the real requests of prod's users, and all
 * traffic returns to v1.0.0; v1.3.0 fixes v1.0.0's upstream timeouts and goes through the same
 * canary, is shown within its margins at each step and promoted step by step until prod serves
 * it alone. Last, the release train `shop` ships v2.0.0 of two services, catalog before cart in
 * each environment (local/demo-train.ts).
 *
 * Each bake poll is a simulated minute of prod's users: PER_MINUTE real order reads through the
 * fleet's weighted router, answered before the judge looks (about a second here). A minute is a
 * number of requests, not of seconds, so a busy machine makes the demo slower, never its
 * verdicts different.
 *
 * A few thousand requests show a canary no worse than 4× (prod's `passRatio` in
 * examples/tagflow.config.json), not 2×: at v1.0.0's 1% of errors a copy of it would need some
 * 30 canary errors, 3000 canary requests, per step. So v1.3.0 fails none (shown below 4× of 1%
 * within a few hundred canary requests), and a slow threshold of 20 ms (below) counts about 7%
 * of reads as slow, where the baseline's p99 would count 1%.
 */

const root = join(fileURLToPath(import.meta.url), '..', '..');
const configPath = join(root, 'examples', 'tagflow.config.json');
const dataDir = join(root, '.tagflow', 'demo');
const started = Date.now();

rmSync(dataDir, { recursive: true, force: true });
const config = withDemoTrain(loadConfigFile(configPath));
const prodCanary = config.services.demo?.environments.find((e) => e.name === 'prod')?.canary;
if (!prodCanary) throw new Error(`${configPath}: the demo needs a canary in prod`);
// Slow means over 20 ms here, about 7% of v1.0.0's reads (more on a busy machine), rather than
// the baseline's p99 read as the canary starts: on a busy machine that p99 is its worst moment,
// and latency then has next to no slow requests to judge. (Its place is prod's canary block in
// examples/tagflow.config.json, which test/unit/canary-thresholds.test.ts reads for the p99 default.)
prodCanary.slowThresholdMs ??= 20;
// Signed manifests, provenance, an SBOM and the vulnerability gate for the demo service (local/demo-supply-chain.ts).
const signingKey = demoSupplyChain(config, dataDir);

/** Prod's users in one simulated minute (a bake poll), and how many of them wait for an answer at once. */
const PER_MINUTE = 400;
const USERS = 16;
const users = { on: false, requests: 0, failures: 0 };
// The runtime runs each step's core from STEP_RUNS: the judge's first lets the minute's users
// call prod (the canary's share through the weighted router), then looks at what they got.
const judgeCanary = STEP_RUNS['judge-canary'];
STEP_RUNS['judge-canary'] = async (input, deps) => {
  const step = input as CanaryStepInput;
  if (users.on && step.canary.mode === 'canary') {
    const sent = await sendRequests(await rt.fleet.endpoint(step.release.service, step.environment.name), PER_MINUTE, { paths: ['/api/orders'], concurrency: USERS });
    users.requests += sent.requests;
    users.failures += sent.failures;
  }
  return judgeCanary(input, deps);
};
const rt = await LocalRuntime.start({ dataDir, config, waits: { 'Bake canary': 0 } });
console.log(dim(`local S3 API ${rt.aws.s3Endpoint} · local DynamoDB API ${rt.aws.dynamoEndpoint} · data ${dataDir}`));

const builds = [
  { version: 'v1.0.0', commit: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d' },
  { version: 'v1.1.0', commit: '2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e' },
  { version: 'v1.2.0', commit: '3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f' },
  { version: 'v1.3.0', commit: '4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70' },
];
// Each build lists the commits up to its tag (local/demo-changes.ts): its release's notes.
const changes = demoChanges(builds);
for (const b of builds) {
  const attached = await publishDemoBuild(rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, signingKey, { service: 'demo', ...b, changes: changes.get(b.version)!, dir: join(root, 'examples', 'demo-service', b.version), entry: 'app.mjs', build: '1' });
  await reportTests(rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, 'demo', b.commit, [
    { name: 'unit', passed: 42, failed: 0 },
    { name: 'integration', passed: 7, failed: 0 },
  ]);
  console.log(dim(`CI: published demo ${b.version} (commit ${b.commit.slice(0, 12)}), ${attached}, and its green test results`));
}

// v1.0.0 arrives the hands-off way: a tag push event, matched by the deployed event patterns.
const tagEvent = { source: 'tagflow', 'detail-type': 'Tag Pushed', detail: { repository: 'acme/demo', tag: 'v1.0.0', commit: builds[0]!.commit } };
const good = await follow((onEvent) => {
  const { started: [first], unmatched } = rt.sendEvent(tagEvent, { onEvent });
  if (!first) throw new Error(`the demo's tag event matched no rule: ${unmatched}`);
  return first.execution;
}, 'git push origin v1.0.0  →  Tag Pushed event  →  release machine');

// What the pipeline verified of v1.0.0 before any environment changed: one line per check.
const checked = await supplyChainLines(rt.deps.ledger, 'demo', 'v1.0.0');
for (const c of checked.lines) console.log(`  ${c.passed ? green('✓') : red('✗')} ${c.check}: ${c.summary}`);

// v1.1.0 is started by hand, as a release manager would in the console.
const bad = await follow((onEvent) => rt.startExecution('release', { service: 'demo', version: 'v1.1.0' }, { onEvent }), 'console: start execution {"service":"demo","version":"v1.1.0"}');

const judgedSteps = prodCanary.steps.filter((w) => w < 100);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What a step line shows of each metric the judge tested (its evidence, as the ledger keeps it). */
interface ShownMetric {
  metric: string;
  canary?: { events: number; requests: number };
  baseline?: { events: number; requests: number };
  ratio?: number | null;
  margin?: number;
  verdict?: string;
}
const LABELS: Record<string, string> = { errors: 'errors', latency: 'slow requests', 'latency-shift': 'latency shift' };
const times = (x: number) => `${Number(x.toPrecision(2))}×`;

/** " on N canary requests: errors 0× baseline (< 4×), …" for a pass (each metric and the margin it was shown below); the metrics that failed, with their counts, for a fail; else the judge's own words. */
function stepLine(verdict: string, canaryRequests: number | undefined, metrics: ShownMetric[] | undefined, summary: string): string {
  const on = canaryRequests === undefined || verdict === 'failed' ? '' : ` on ${canaryRequests} canary requests`;
  const shown = (metrics ?? []).filter((m) => (verdict === 'failed' ? m.verdict === 'fail' : true));
  if (shown.length === 0 || (verdict !== 'passed' && verdict !== 'failed')) return `${on} ${dim(`— ${summary.replace(/^canary \S+ [^:]*: /, '')}`)}`;
  const label = (m: ShownMetric) => LABELS[m.metric] ?? m.metric.replace(/^custom:/, '');
  const ratio = (m: ShownMetric) => (typeof m.ratio === 'number' ? `${times(m.ratio)} baseline` : 'no baseline events');
  const each = shown.map((m) =>
    verdict === 'passed'
      ? `${label(m)} ${ratio(m)}${typeof m.margin === 'number' ? ` (< ${times(m.margin)})` : ''}`
      : `${label(m)} ${ratio(m)}${m.canary && m.baseline ? ` (${m.canary.events} in ${m.canary.requests} canary requests, ${m.baseline.events} in ${m.baseline.requests} baseline)` : ''}`,
  );
  return `${on}: ${each.join(', ')}`;
}

/** A release that meets prod's canary while users keep calling prod; one line per step the judge looked at. */
async function canaryRelease(version: string, title: string) {
  Object.assign(users, { on: true, requests: 0, failures: 0 });
  const began = Date.now();
  const summary = await follow((onEvent) => rt.startExecution('release', { service: 'demo', version }, { onEvent }), title);
  users.on = false;
  const decisions = await rt.deps.ledger.decisions('demo', version);
  const judged = decisions.filter((d) => d.step === 'judge' && d.environment === 'prod');
  const steps = new Map<number, { weight: number; looks: number; of: number; verdict: string; line: string }>();
  for (const d of judged) {
    const e = (d.evidence ?? {}) as { step?: number; weight?: number; poll?: number; of?: number; counts?: { canary?: { requests?: number } }; judgement?: { metrics?: ShownMetric[] } };
    // A step promoted for want of evidence (onInconclusive: promote) is recorded passed too; the demo says so.
    const verdict = d.verdict === 'passed' && d.summary.includes('onInconclusive') ? 'promoted without evidence' : d.verdict;
    steps.set(e.step ?? 0, { weight: e.weight ?? 0, looks: e.poll ?? 0, of: e.of ?? 0, verdict, line: stepLine(verdict, e.counts?.canary?.requests, e.judgement?.metrics, d.summary) });
  }
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  console.log(dim(`  prod's users sent ${users.requests} real requests, ${PER_MINUTE} a simulated minute; the judge looked ${plural(judged.length, 'time')} (${plural(judged.length, 'simulated minute')}, ${seconds} s)`));
  for (const [step, s] of steps) {
    const mark = s.verdict === 'passed' ? green('✓') : s.verdict === 'failed' ? red('✗') : '·';
    console.log(`    ${mark} step ${step} at ${s.weight}%: ${s.verdict} at look ${s.looks} of ${s.of}${s.line}`);
  }
  // What the rollback did, as the ledger says it (its cause, after " — ", was the failure above).
  for (const d of decisions.filter((d) => d.step === 'rollback' && d.environment === 'prod')) console.log(`    ↩ ${d.summary.split(' — ')[0]}`);
  return { summary, looks: judged.length, steps: [...steps.values()] };
}

// v1.2.0 meets prod's canary and fails it; prod is then on v1.0.0 alone.
const canary = await canaryRelease('v1.2.0', 'console: start execution {"service":"demo","version":"v1.2.0"} (prod takes it as a canary)');
const afterBad = { version: rt.fleet.version('demo', 'prod'), canary: rt.fleet.canary('demo', 'prod') };

// v1.3.0 fails no order read (v1.0.0 fails 1%) and is as fast: it passes each step of the same canary and takes all of prod.
const healthy = await canaryRelease('v1.3.0', 'console: start execution {"service":"demo","version":"v1.3.0"} (prod takes it as a canary)');

const prodNow = { version: rt.fleet.version('demo', 'prod'), canary: rt.fleet.canary('demo', 'prod') };

// A release train: one version of two services, in the configured order, environment by environment.
await publishTrainBuilds(rt, root);
const train = await follow((onEvent) => rt.startExecution('train', { train: DEMO_TRAIN.name, version: DEMO_TRAIN.version }, { onEvent }), `console: start execution {"train":"${DEMO_TRAIN.name}","version":"${DEMO_TRAIN.version}"} on the train machine`);
const { lines: trainRows, inOrder } = await trainLines(rt, config);
for (const line of trainRows) console.log(`  ${line}`);

console.log('');
for (const line of await statusTable(rt.deps.ledger, config, 'demo')) console.log(line);
await rt.close();

const goodOk = good.status === 'SUCCEEDED' && checked.all;
const badOutcome = bad.status === 'FAILED' && bad.error === 'SmokeTestFailed';
const canaryOutcome = canary.summary.status === 'FAILED' && canary.summary.error === 'CanaryFailed' && afterBad.version === 'v1.0.0' && !afterBad.canary;
// Promoted on the judge's evidence at every step below 100% (never for want of it), and prod serves v1.3.0 alone.
const passedEverywhere = healthy.steps.length === judgedSteps.length && healthy.steps.every((s, i) => s.verdict === 'passed' && s.weight === judgedSteps[i]);
const healthyOutcome = healthy.summary.status === 'SUCCEEDED' && passedEverywhere && prodNow.version === 'v1.3.0' && !prodNow.canary;
const canaryMinutes = plural(canary.looks, 'simulated minute');
const healthyMinutes = plural(healthy.looks, 'simulated minute');
const stepsShown = healthy.steps.map((s) => `${s.weight}% after ${plural(s.looks, 'look')}`).join(', ');
console.log('');
console.log(`${goodOk ? green('✔') : red('✘')} v1.0.0: ${goodOk ? `verified (${checked.lines.map((c) => c.check).join(', ')}) and shipped to dev, staging and prod` : `${good.status} ${good.error ?? ''}${checked.all ? '' : `; checks not all passed: ${checked.lines.filter((c) => !c.passed).map((c) => c.check).join(', ') || 'none recorded'}`}`}`);
console.log(`${badOutcome ? green('✔') : red('✘')} v1.1.0: ${badOutcome ? 'failed smoke tests in staging, rolled back to v1.0.0, never reached prod' : `${bad.status} ${bad.error ?? ''}`}`);
console.log(
  `${canaryOutcome ? green('✔') : red('✘')} v1.2.0: ${canaryOutcome ? `failed prod's canary after ${canaryMinutes}; canary removed, all prod traffic back on v1.0.0` : `${canary.summary.status} ${canary.summary.error ?? ''}: ${canary.summary.cause ?? ''}`}`,
);
console.log(
  `${healthyOutcome ? green('✔') : red('✘')} v1.3.0: ${
    healthyOutcome
      ? `passed prod's canary step by step (${stepsShown}; ${healthyMinutes}) and serves all of prod`
      : `${healthy.summary.status} ${healthy.summary.error ?? ''}: ${healthy.summary.cause ?? ''}; steps ${healthy.steps.map((s) => `${s.weight}% ${s.verdict}`).join(', ') || 'none judged'}; prod serves ${prodNow.version ?? 'nothing'}${prodNow.canary ? ` and a canary` : ''}`
  }`,
);
const trainOk = train.status === 'SUCCEEDED' && inOrder;
console.log(`${trainOk ? green('✔') : red('✘')} train ${DEMO_TRAIN.name} ${DEMO_TRAIN.version}: ${trainOk ? `${DEMO_TRAIN.members.join(' then ')} in every environment, each environment only once both were known-good in the one before` : `${train.status} ${train.error ?? ''}: ${train.cause ?? ''}`}`);
console.log(dim(`ledger: ${join(dataDir, 'ledger')} · events: ${join(dataDir, 'events.jsonl')} · ${((Date.now() - started) / 1000).toFixed(1)} s`));
console.log(dim(`see every decision: npx tagflow history --service demo --config examples/tagflow.config.json --data-dir .tagflow/demo`));
console.log(dim(`what v1.3.0 brought prod since v1.0.0: npx tagflow notes --service demo --version v1.3.0 --config examples/tagflow.config.json --data-dir .tagflow/demo`));
process.exit(goodOk && badOutcome && canaryOutcome && healthyOutcome && trainOk ? 0 : 1);
