import { approvals } from '../adapters/aws/approvals.js';
import { common } from '../adapters/aws/env.js';
import { events } from '../adapters/aws/events.js';
import { ledger } from '../adapters/aws/ledger.js';
import { targets } from '../adapters/aws/targets.js';
import { parseExecutionStatusChange, reconcile, type ReconcileDeps, type ReconcileReport } from '../lib/reconcile.js';
import { stepHandler } from '../lib/step-handler.js';

/** The EventBridge `Step Functions Execution Status Change` event → the reconcile core. */
export const run = (event: unknown, deps: ReconcileDeps): Promise<ReconcileReport> => reconcile(parseExecutionStatusChange(event, deps.clock.now()), deps);
export const handler = stepHandler('reconcile', run, () => ({ ...common(), ledger: ledger(), targets, events: events(), approvals: approvals() }));
