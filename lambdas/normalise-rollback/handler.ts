import { alarmTags } from '../adapters/aws/alarm-tags.js';
import { config } from '../adapters/aws/config.js';
import { common } from '../adapters/aws/env.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { normaliseRollback } from '../lib/steps/normalise-rollback.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps, without alarm tags). */
export const run = async (event: { input: unknown; executionId: string }, deps: Pick<Deps, 'config' | 'alarmTags'>) => normaliseRollback(event, await deps.config(), deps.alarmTags);
export const handler = stepHandler('normalise-rollback', run, () => ({ ...common(), config, alarmTags: alarmTags() }));
