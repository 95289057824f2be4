import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfigText, type PipelineConfig } from '../../lambdas/lib/config.js';
import { CliInputError } from './cli-errors.js';

export const DEFAULT_CONFIG = 'tagflow.config.json';

/** Reads and validates the pipeline config; a missing file, a folder or unreadable text is a CliInputError, a bad field a ConfigError (both exit 2). */
export function loadConfigFile(path = DEFAULT_CONFIG): PipelineConfig {
  const full = resolve(path);
  const stat = statSync(full, { throwIfNoEntry: false });
  if (!stat) {
    throw new CliInputError(
      path === DEFAULT_CONFIG
        ? `no ${DEFAULT_CONFIG} in ${process.cwd()}; pass --config FILE (the demo's is examples/tagflow.config.json)`
        : `config file ${path} does not exist; pass --config FILE (the demo's is examples/tagflow.config.json)`,
    );
  }
  if (stat.isDirectory()) throw new CliInputError(`--config ${path} is a folder; pass the config file itself, e.g. --config ${path.replace(/\/+$/, '')}/${DEFAULT_CONFIG}`);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new CliInputError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // Editors on Windows save UTF-8 with a byte order mark; JSON.parse refuses it.
  return parseConfigText(text.replace(/^\uFEFF/, ''), path);
}
