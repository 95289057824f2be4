import { DependencyUnavailable } from '../lib/errors.js';

const TRANSIENT = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'InternalServerError',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

interface SdkError {
  name?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

export function isTransient(err: unknown): boolean {
  const e = err as SdkError;
  if (!e || typeof e !== 'object') return false;
  if (e.name && TRANSIENT.has(e.name)) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes((err as { code?: string }).code ?? '');
}

/**
 * Runs an SDK call. Errors that outlived the SDK's own retries and are transient become
 * `DependencyUnavailable`, which the state machine retries with backoff; others pass through.
 */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isTransient(err)) throw new DependencyUnavailable(`${what} failed after retries: ${(err as SdkError).name ?? 'Error'}: ${(err as SdkError).message ?? ''}`);
    throw err;
  }
}
