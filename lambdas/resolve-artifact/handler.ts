import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { resolveArtifact, type ResolveArtifactInput } from '../lib/steps/resolve-artifact.js';

export const run = (event: ResolveArtifactInput, deps: Deps) => resolveArtifact(event, deps);
export const handler = stepHandler('resolve-artifact', run, awsDeps);
