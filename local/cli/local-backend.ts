import type { PipelineConfig } from '../../lambdas/lib/config.js';
import { acknowledgeDrift } from '../../lambdas/lib/drift-acknowledge.js';
import { freeze, unfreeze } from '../../lambdas/lib/freezes.js';
import type { ReconcileReport } from '../../lambdas/lib/reconcile.js';
import { FleetServing } from '../runtime/fleet-serving.js';
import type { LocalRuntime } from '../runtime/runtime.js';
import type { Backend } from './backend.js';

/** The local runtime as a backend: the ledger in `.tagflow/`, executions in this process. */
export function localBackend(rt: LocalRuntime, config: PipelineConfig, actor: string, artifactsBucket: string): Backend {
  return {
    where: `ledger: ${rt.options.dataDir}/ledger (DynamoDB API via dynalite)`,
    config,
    ledger: rt.deps.ledger,
    executions: rt.deps.executions ?? { status: async () => undefined },
    store: rt.deps.store,
    artifactsBucket,
    signing: { kind: 'local', dataDir: rt.options.dataDir },
    metrics: (target) => rt.deps.metrics(target),
    serving: () => new FleetServing(rt.fleet),
    notices: [...rt.warnings.map((w) => `⚠ ${w}`), ...describeRecovered(rt.recovered)],
    now: () => rt.clock.now(),
    declareFreeze: (flags) => freeze(rt.deps.ledger, config, flags, rt.clock.now(), actor),
    endFreeze: (name) => unfreeze(rt.deps.ledger, name, rt.clock.now(), actor),
    acknowledgeDrift: (flags) => acknowledgeDrift(rt.deps.ledger, config, flags, rt.clock.now(), actor),
    start: async (machine, input, onEvent) => rt.startExecution(machine, input, { onEvent }),
    sendEvent: async (event, onEvent) => {
      const result = rt.sendEvent(event, { onEvent });
      return { kind: 'local', started: result.started, ...(result.unmatched ? { unmatched: result.unmatched } : {}) };
    },
    close: () => rt.close(),
  };
}

/** What the start reconciled: executions a killed tagflow process left behind. */
export function describeRecovered(reports: readonly ReconcileReport[]): string[] {
  return reports.map((r) => {
    const did = [
      ...r.canariesRemoved.map((c) => `canary ${c.version} removed from ${c.service} ${c.environment} at ${c.weight}%`),
      ...r.locksReleased.map((l) => `released the lock of ${l.service} ${l.environment}`),
      ...(r.outcome ? [`recorded ${r.outcome.releaseId} ${r.outcome.outcome}`] : []),
      ...r.notes,
    ];
    return `⚠ reconciled ${r.executionArn.split(':').pop()}, whose process is gone: ${did.join('; ') || 'nothing was left to clean up'}`;
  });
}
