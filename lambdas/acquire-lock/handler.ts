import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { acquireLock, type LockInput } from '../lib/steps/lock.js';

export const run = (event: LockInput, deps: Deps) => acquireLock(event, deps);
export const handler = stepHandler('acquire-lock', run, awsDeps);
