import './runtime/polyfills.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { follow } from './cli/main.js';
import { loadConfigFile } from './cli/config-file.js';
import { dim, green, red } from './cli/progress.js';
import { statusTable } from './cli/status.js';
import { publishBuild, reportTests } from './runtime/ci.js';
import { LOCAL_LOCATIONS, LocalRuntime } from './runtime/runtime.js';
import { startTraffic } from './runtime/traffic.js';

/**
 * `npm run demo`: CI publishes three builds of the demo service. v1.0.0 ships dev → staging →
 * prod; v1.1.0 breaks /api/orders, fails staging's smoke tests and is rolled back there;
 * v1.2.0 passes every smoke test but fails five times as many order reads: it reaches prod's
 * canary, where the judge fails it on the real requests of a steady stream of traffic, and all
 * traffic returns to v1.0.0. Each bake poll (a minute in AWS) takes 1 s here.
 */

const root = join(fileURLToPath(import.meta.url), '..', '..');
const configPath = join(root, 'examples', 'tagflow.config.json');
const dataDir = join(root, '.tagflow', 'demo');
const started = Date.now();

rmSync(dataDir, { recursive: true, force: true });
const config = loadConfigFile(configPath);
const BAKE_MS = 1000;
const rt = await LocalRuntime.start({ dataDir, config, waits: { 'Bake canary': BAKE_MS } });
console.log(dim(`local S3 API ${rt.aws.s3Endpoint} · local DynamoDB API ${rt.aws.dynamoEndpoint} · data ${dataDir}`));

const builds = [
  { version: 'v1.0.0', commit: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d' },
  { version: 'v1.1.0', commit: '2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e' },
  { version: 'v1.2.0', commit: '3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f' },
];
for (const b of builds) {
  await publishBuild(rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, { service: 'demo', ...b, dir: join(root, 'examples', 'demo-service', b.version), entry: 'app.mjs', build: '1' });
  await reportTests(rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, 'demo', b.commit, [
    { name: 'unit', passed: 42, failed: 0 },
    { name: 'integration', passed: 7, failed: 0 },
  ]);
  console.log(dim(`CI: published demo ${b.version} (commit ${b.commit.slice(0, 12)}) and its green test results`));
}

// v1.0.0 arrives the hands-off way: a tag push event, matched by the deployed event patterns.
const tagEvent = { source: 'tagflow', 'detail-type': 'Tag Pushed', detail: { repository: 'acme/demo', tag: 'v1.0.0', commit: builds[0]!.commit } };
const good = await follow((onEvent) => {
  const { started: [first], unmatched } = rt.sendEvent(tagEvent, { onEvent });
  if (!first) throw new Error(`the demo's tag event matched no rule: ${unmatched}`);
  return first.execution;
}, 'git push origin v1.0.0  →  Tag Pushed event  →  release machine');

// v1.1.0 is started by hand, as a release manager would in the console.
const bad = await follow((onEvent) => rt.startExecution('release', { service: 'demo', version: 'v1.1.0' }, { onEvent }), 'console: start execution {"service":"demo","version":"v1.1.0"}');

// v1.2.0 meets prod's canary while users keep calling prod.
const traffic = startTraffic(() => rt.fleet.endpoint('demo', 'prod'), { paths: ['/api/orders'], concurrency: 64 });
const canaryStarted = Date.now();
const canary = await follow((onEvent) => rt.startExecution('release', { service: 'demo', version: 'v1.2.0' }, { onEvent }), 'console: start execution {"service":"demo","version":"v1.2.0"} (prod takes it as a canary)');
const served = await traffic.stop();
const judged = (await rt.deps.ledger.decisions('demo', 'v1.2.0')).filter((d) => d.step === 'judge');
const looks = judged.length;
const simulatedMinutes = `${looks} simulated minute${looks === 1 ? '' : 's'}`;
console.log(dim(`  prod served ${served.requests} real requests meanwhile; the judge looked ${looks} time${looks === 1 ? '' : 's'} (${simulatedMinutes}, ${((Date.now() - canaryStarted) / 1000).toFixed(1)} s)`));

console.log('');
for (const line of await statusTable(rt.deps.ledger, config, 'demo')) console.log(line);
const prodNow = { version: rt.fleet.version('demo', 'prod'), canary: rt.fleet.canary('demo', 'prod') };
await rt.close();

const goodOk = good.status === 'SUCCEEDED';
const badOutcome = bad.status === 'FAILED' && bad.error === 'SmokeTestFailed';
const canaryOutcome = canary.status === 'FAILED' && canary.error === 'CanaryFailed' && prodNow.version === 'v1.0.0' && !prodNow.canary;
console.log('');
console.log(`${goodOk ? green('✔') : red('✘')} v1.0.0: ${good.status === 'SUCCEEDED' ? 'shipped to dev, staging and prod' : `${good.status} ${good.error ?? ''}`}`);
console.log(`${badOutcome ? green('✔') : red('✘')} v1.1.0: ${badOutcome ? 'failed smoke tests in staging, rolled back to v1.0.0, never reached prod' : `${bad.status} ${bad.error ?? ''}`}`);
console.log(`${canaryOutcome ? green('✔') : red('✘')} v1.2.0: ${canaryOutcome ? `failed prod's canary after ${simulatedMinutes}; all prod traffic is back on v1.0.0` : `${canary.status} ${canary.error ?? ''}: ${canary.cause ?? ''}`}`);
console.log(dim(`ledger: ${join(dataDir, 'ledger')} · events: ${join(dataDir, 'events.jsonl')} · ${((Date.now() - started) / 1000).toFixed(1)} s`));
console.log(dim(`see every decision: npx tagflow history --service demo --config examples/tagflow.config.json --data-dir .tagflow/demo`));
process.exit(goodOk && badOutcome && canaryOutcome ? 0 : 1);
