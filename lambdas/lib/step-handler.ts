import middy from '@middy/core';
import { errorMessage, errorName } from './errors.js';
import type { Deps } from './ports.js';

export type StepFn<I, O, D = Deps> = (event: I, deps: D) => Promise<O>;

/**
 * The one Lambda handler shape every step shares: resolve deps (once), run the core, log a
 * failure with its name and let it propagate, so the state machine's Retry/Catch see it.
 * A step names only the deps it uses, so its bundle holds only those adapters.
 */
export function stepHandler<I, O, D extends Pick<Deps, 'log'>>(step: string, run: StepFn<I, O, D>, deps: () => D | Promise<D>) {
  return middy<I, O>({ timeoutEarlyInMillis: 0 })
    .use({
      onError: async (request) => {
        const d = await deps();
        d.log.error(`${step} failed`, { step, error: errorName(request.error), reason: errorMessage(request.error) });
      },
    })
    .handler(async (event: I) => run(event, await deps()));
}

export function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}
