import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { releaseLock, type LockInput } from '../lib/steps/lock.js';

export const run = (event: LockInput, deps: Deps) => releaseLock(event, deps);
export const handler = stepHandler('release-lock', run, awsDeps);
