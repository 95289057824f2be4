import type { Context } from 'aws-lambda';

/**
 * Invokes a step handler the way Lambda does: the payload crosses as JSON both ways, and an
 * error reaches Step Functions as `Error` = its name and `Cause` = the runtime's JSON.
 */
export function asLambda(functionName: string, handler: (event: unknown, context: Context) => Promise<unknown>) {
  let requests = 0;
  return async (input: unknown): Promise<unknown> => {
    const event = JSON.parse(JSON.stringify(input ?? null)) as unknown;
    const context = {
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: functionName,
      memoryLimitInMB: '512',
      awsRequestId: `local-${++requests}`,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => 60_000,
      done() {},
      fail() {},
      succeed() {},
    } as Context;
    try {
      const result = await handler(event, context);
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const lambdaError = new Error(JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n').slice(0, 5) }));
      lambdaError.name = e.name;
      throw lambdaError;
    }
  };
}
