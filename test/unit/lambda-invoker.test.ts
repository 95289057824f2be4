import { InvokeCommand, LambdaClient, TooManyRequestsException, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { LambdaInvoker } from '../../lambdas/adapters/lambda-invoker.js';

const lambdaMock = mockClient(LambdaClient);
const invoker = new LambdaInvoker(new LambdaClient({ region: 'us-east-1', maxAttempts: 1 }));
// The SDK answers with a Uint8Array subclass; the invoker only needs the bytes.
const bytes = (text: string) => new TextEncoder().encode(text) as unknown as InvokeCommandOutput['Payload'];
const json = (v: unknown) => bytes(JSON.stringify(v));
const req = { functionName: 'api-prod', qualifier: 'live', payload: { ping: true }, timeoutMs: 2000 };

beforeEach(() => lambdaMock.reset());

describe('LambdaInvoker', () => {
  it('invokes the alias with a JSON payload and decodes the JSON answer', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: json({ status: 'ok', n: 3 }) });
    const res = await invoker.invoke(req);

    expect(res.payload).toEqual({ status: 'ok', n: 3 });
    expect(res.functionError).toBeUndefined();
    expect(lambdaMock).toHaveReceivedCommandExactlyOnceWith(InvokeCommand, { FunctionName: 'api-prod', Qualifier: 'live', InvocationType: 'RequestResponse' });
    const sent = lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(JSON.parse(new TextDecoder().decode(sent.Payload as Uint8Array))).toEqual({ ping: true });
    // The timeout rides on the request as an abort signal.
    expect((lambdaMock.send.getCall(0).args as unknown[])[1]).toMatchObject({ abortSignal: expect.any(AbortSignal) });
  });

  it('reports a function error with the error type and message from the payload', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: json({ errorType: 'TypeError', errorMessage: 'x is undefined', trace: [] }) });
    const res = await invoker.invoke(req);
    expect(res.functionError).toBe('Unhandled: TypeError: x is undefined');
    expect(res.payload).toMatchObject({ errorMessage: 'x is undefined' });
  });

  it('hands non-JSON answers over as text', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: bytes('pong') });
    expect((await invoker.invoke(req)).payload).toBe('pong');
  });

  it('measures the latency of the call', async () => {
    lambdaMock.on(InvokeCommand).callsFake(async () => {
      await new Promise((r) => setTimeout(r, 80));
      return { StatusCode: 200, Payload: json(null) };
    });
    const res = await invoker.invoke(req);
    expect(res.latencyMs).toBeGreaterThanOrEqual(75);
    expect(res.latencyMs).toBeLessThan(2000);
  });

  it('names the time budget when the call is aborted', async () => {
    lambdaMock.on(InvokeCommand).rejects(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    await expect(invoker.invoke(req)).rejects.toThrow('Lambda Invoke api-prod:live timed out after 2000 ms');
  });

  it('turns lasting throttling into DependencyUnavailable', async () => {
    lambdaMock.on(InvokeCommand).rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }));
    await expect(invoker.invoke(req)).rejects.toMatchObject({ name: 'DependencyUnavailable' });
  });
});
