import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineConfig } from '../lambdas/lib/config.js';

/**
 * The pipeline config as the functions that read it get it: validated at synth, every default
 * filled in, as JSON, so at cold start they parse plain JSON and load no validator (zod: about
 * 90 KB and 25 ms of a cold import). Written to a file named by its content, which the bundling
 * hook copies beside the bundle (infra/step-function.ts).
 */
export function shippedConfigFile(config: PipelineConfig): string {
  const text = JSON.stringify(config);
  const dir = join(tmpdir(), 'tagflow-shipped-config');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
  writeFileSync(file, text);
  return file;
}
