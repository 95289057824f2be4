import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfigText, type PipelineConfig } from '../../lambdas/lib/config.js';

export const DEFAULT_CONFIG = 'tagflow.config.json';

export function loadConfigFile(path = DEFAULT_CONFIG): PipelineConfig {
  const full = resolve(path);
  if (!existsSync(full)) {
    throw new Error(
      path === DEFAULT_CONFIG
        ? `no ${DEFAULT_CONFIG} in ${process.cwd()}; pass --config FILE (the demo's is examples/tagflow.config.json)`
        : `config file ${path} does not exist`,
    );
  }
  return parseConfigText(readFileSync(full, 'utf8'), path);
}
