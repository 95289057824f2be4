import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { FunctionInvoker } from '../lib/ports.js';
import { call } from './transient.js';

/** Synchronous invokes for smoke checks: the payload as JSON, errors reported, not thrown. */
export class LambdaInvoker implements FunctionInvoker {
  constructor(private readonly lambda: LambdaClient) {}

  async invoke(req: { functionName: string; qualifier: string; payload: unknown; timeoutMs: number }): Promise<{ payload: unknown; functionError?: string; latencyMs: number }> {
    const what = `Lambda Invoke ${req.functionName}:${req.qualifier}`;
    const started = performance.now();
    let res;
    try {
      res = await call(what, () =>
        this.lambda.send(
          new InvokeCommand({ FunctionName: req.functionName, Qualifier: req.qualifier, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(req.payload ?? {})) }),
          { abortSignal: AbortSignal.timeout(req.timeoutMs) },
        ),
      );
    } catch (err) {
      // The SDK's abort error says only "Request aborted": name the budget instead.
      if ((err as { name?: string })?.name === 'AbortError') throw new Error(`${what} timed out after ${req.timeoutMs} ms`);
      throw err;
    }
    const latencyMs = Math.round(performance.now() - started);

    const text = res.Payload?.length ? new TextDecoder().decode(res.Payload) : '';
    let payload: unknown = text;
    try {
      payload = text === '' ? undefined : JSON.parse(text);
    } catch {
      // a handler may return non-JSON text: hand it over as a string
    }
    if (!res.FunctionError) return { payload, latencyMs };
    // Lambda's error payload: {errorType, errorMessage, trace}; the header says Unhandled/Handled.
    const p = (payload ?? {}) as { errorType?: unknown; errorMessage?: unknown };
    const detail = typeof p.errorMessage === 'string' ? `${typeof p.errorType === 'string' ? `${p.errorType}: ` : ''}${p.errorMessage}` : text.slice(0, 500);
    return { payload, functionError: `${res.FunctionError}${detail ? `: ${detail}` : ''}`, latencyMs };
  }
}
