import { rmSync, readFileSync } from 'node:fs';
import { LocalRuntime, LOCAL_LOCATIONS } from '../local/runtime/runtime.js';
import { parseConfigText } from '../lambdas/lib/config.js';
import { publishBuild, reportTests } from '../local/runtime/ci.js';
const dataDir = '/tmp/tf-try'; rmSync(dataDir, { recursive: true, force: true });
const config = parseConfigText(readFileSync('examples/tagflow.config.json', 'utf8'));
const rt = await LocalRuntime.start({ dataDir, config });
const c1 = 'a'.repeat(40), c2 = 'b'.repeat(40);
await publishBuild(rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, { service: 'demo', version: 'v1.0.0', commit: c1, dir: 'examples/demo-service/v1.0.0', entry: 'app.mjs' });
await reportTests(rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, 'demo', c1, [{ name: 'unit', passed: 10, failed: 0 }, { name: 'integration', passed: 3, failed: 0 }]);
await publishBuild(rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, { service: 'demo', version: 'v1.1.0', commit: c2, dir: 'examples/demo-service/v1.1.0', entry: 'app.mjs' });
await reportTests(rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, 'demo', c2, [{ name: 'unit', passed: 10, failed: 0 }, { name: 'integration', passed: 3, failed: 0 }]);
for (const v of ['v1.0.0', 'v1.1.0']) {
  const t = Date.now();
  const h = rt.startExecution('release', { service: 'demo', version: v }, { onEvent: (e) => { if (e.type === 'StateEntered' || e.type === 'StateFailed' || e.type==='StateCaught') console.log(' ', e.type, (e as any).state?.name, (e as any).Error ?? '', String((e as any).Cause ?? '').slice(0,200)); } });
  const s = await h.done;
  console.log(v, s.status, s.error, s.cause, Date.now() - t, 'ms');
}
console.log(await rt.deps.ledger.environments('demo'));
const bad = rt.startExecution('release', { servce: 'demo', version: '1.2' });
const sb = await bad.done; console.log(sb.status, sb.error, sb.cause);
await rt.close();
