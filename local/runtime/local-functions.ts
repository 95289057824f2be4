import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FunctionInvoker } from '../../lambdas/lib/ports.js';

/** A function the local runtime can invoke by name, as Lambda would (a migration, locally). */
export type LocalFunction = (payload: unknown) => unknown;

/** Where a named function lives locally when no code registered it: `<dataDir>/functions/<name>.mjs`, exporting `handler`. */
export const localFunctionPath = (dataDir: string, name: string): string => join(dataDir, 'functions', `${name}.mjs`);

/**
 * Invokes functions locally: those registered by name (tests, embedders), else the module
 * `<dataDir>/functions/<name>.mjs`'s `handler`. A thrown error is a function error, as Lambda
 * reports an unhandled one (`Unhandled`, with the error as payload).
 */
export function localInvoker(dataDir: string, registered: Record<string, LocalFunction> = {}): FunctionInvoker {
  return {
    async invoke({ functionName, payload }) {
      const started = Date.now();
      let fn = registered[functionName];
      if (!fn) {
        const path = localFunctionPath(dataDir, functionName);
        if (!existsSync(path)) throw new Error(`no local function "${functionName}": register it with the runtime, or write ${path} exporting handler(payload)`);
        const mod = (await import(pathToFileURL(path).href)) as { handler?: LocalFunction };
        if (typeof mod.handler !== 'function') throw new Error(`${path} exports no handler(payload)`);
        fn = mod.handler;
      }
      try {
        const result = await fn(payload);
        return { payload: result ?? null, latencyMs: Date.now() - started };
      } catch (err) {
        const e = err as Error;
        return { payload: { errorType: e?.name ?? 'Error', errorMessage: e?.message ?? String(err) }, functionError: 'Unhandled', latencyMs: Date.now() - started };
      }
    },
  };
}
