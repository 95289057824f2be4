import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { testsGate, type TestsGateInput } from '../lib/steps/tests-gate.js';

export const run = (event: TestsGateInput, deps: Deps) => testsGate(event, deps);
export const handler = stepHandler('tests-gate', run, awsDeps);
