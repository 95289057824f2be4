import { parseConfigText, type PipelineConfig } from '../../lib/config.js';
import { once } from '../../lib/step-handler.js';
import { requireEnv } from './env.js';

/** The pipeline config: inline in TAGFLOW_CONFIG (what the stack sets), validated once. */
export const config = once(async (): Promise<PipelineConfig> => parseConfigText(requireEnv('TAGFLOW_CONFIG'), 'TAGFLOW_CONFIG'));
