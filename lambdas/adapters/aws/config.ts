import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { PipelineConfig } from '../../lib/config.js';
import { once } from '../../lib/step-handler.js';

/**
 * The pipeline config ships in the code of each function that reads it, as this file beside
 * the bundle (infra/step-function.ts copies it there), not in an environment variable: Lambda
 * allows 4 KB of those per function, which a pipeline of a few services outgrows. The stack
 * validated it and filled in its defaults (infra/shipped-config.ts), so it is read as JSON.
 */
export const CONFIG_FILE = 'tagflow.config.json';

/** The pipeline config, read once per cold start. */
export const config = once(async (): Promise<PipelineConfig> => {
  // Inside a bundle, this module's URL is the bundle's.
  const file = new URL(`./${CONFIG_FILE}`, import.meta.url);
  const redeploy = `The stack ships ${CONFIG_FILE} beside the code of each function that reads the config; redeploy with cdk deploy`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the pipeline config ${fileURLToPath(file)}: ${(err as Error).message}. ${redeploy}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`the pipeline config ${fileURLToPath(file)} is not JSON: ${(err as Error).message}. ${redeploy}`);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { services?: unknown }).services !== 'object') {
    throw new Error(`the pipeline config ${fileURLToPath(file)} has no "services". ${redeploy}`);
  }
  return parsed as PipelineConfig;
});
