import type { HttpCheck, InvokeCheck, SmokeCheck, TargetConfig } from './config.js';
import { DependencyUnavailable, errorMessage } from './errors.js';
import { evaluatePath, jsonEquals } from './json-path.js';
import type { Clock, FunctionInvoker, HttpProbe } from './ports.js';
import { fillNames } from './targets.js';

export interface CheckResult {
  name: string;
  passed: boolean;
  attempts: number;
  /** Why the last attempt failed, in words. */
  reason?: string;
  status?: number;
  latencyMs?: number;
}

export interface SmokeContext {
  service: string;
  environment: string;
  version: string;
  endpoint?: string;
  target: TargetConfig;
  /** Invoke this qualifier instead of the target's alias (a staged version, for pre-traffic checks). */
  qualifier?: string;
  http: HttpProbe;
  invoker?: FunctionInvoker;
  clock: Clock;
}

function judgeBody(check: { jsonPath?: string; equals?: unknown }, body: unknown): string | undefined {
  if (!check.jsonPath) return undefined;
  const actual = evaluatePath(check.jsonPath, body);
  if (check.equals === undefined) return actual === undefined ? `${check.jsonPath} is missing from the response` : undefined;
  return jsonEquals(actual, check.equals) ? undefined : `${check.jsonPath} is ${JSON.stringify(actual)}, expected ${JSON.stringify(check.equals)}`;
}

async function httpAttempt(check: HttpCheck, ctx: SmokeContext): Promise<Omit<CheckResult, 'name' | 'attempts'>> {
  let url: string;
  if (check.url) url = fillNames(check.url, ctx);
  else if (ctx.endpoint) url = ctx.endpoint.replace(/\/$/, '') + check.path;
  else return { passed: false, reason: `check has a path but environment ${ctx.environment} has no endpoint; set "endpoint" in its config or use an absolute "url"` };

  const res = await ctx.http.request({ method: check.method, url, headers: check.headers, ...(check.body !== undefined ? { body: check.body } : {}), timeoutMs: check.maxLatencyMs * 2 });
  const base = { status: res.status, latencyMs: res.latencyMs };
  if (res.status !== check.expectStatus) return { ...base, passed: false, reason: `${check.method} ${url} answered ${res.status}, expected ${check.expectStatus}` };
  if (res.latencyMs > check.maxLatencyMs) return { ...base, passed: false, reason: `${check.method} ${url} took ${res.latencyMs} ms, budget ${check.maxLatencyMs} ms` };
  if (check.bodyContains !== undefined && !res.body.includes(check.bodyContains)) return { ...base, passed: false, reason: `response body does not contain ${JSON.stringify(check.bodyContains)}` };
  if (check.jsonPath) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      return { ...base, passed: false, reason: `response body is not JSON, so ${check.jsonPath} cannot be checked` };
    }
    const problem = judgeBody(check, parsed);
    if (problem) return { ...base, passed: false, reason: problem };
  }
  return { ...base, passed: true };
}

async function invokeAttempt(check: InvokeCheck, ctx: SmokeContext): Promise<Omit<CheckResult, 'name' | 'attempts'>> {
  if (ctx.target.type !== 'lambda-alias') return { passed: false, reason: `an "invoke" check needs a lambda-alias target; environment ${ctx.environment} uses ${ctx.target.type}` };
  if (!ctx.invoker) return { passed: false, reason: 'no Lambda invoker is configured' };
  const res = await ctx.invoker.invoke({ functionName: fillNames(ctx.target.functionName, ctx), qualifier: ctx.qualifier ?? ctx.target.alias, payload: check.payload, timeoutMs: check.maxLatencyMs * 2 });
  if (res.functionError) return { passed: false, latencyMs: res.latencyMs, reason: `the function returned an error: ${res.functionError}` };
  if (res.latencyMs > check.maxLatencyMs) return { passed: false, latencyMs: res.latencyMs, reason: `invoke took ${res.latencyMs} ms, budget ${check.maxLatencyMs} ms` };
  const problem = judgeBody(check, res.payload);
  return problem ? { passed: false, latencyMs: res.latencyMs, reason: problem } : { passed: true, latencyMs: res.latencyMs };
}

async function runCheck(check: SmokeCheck, ctx: SmokeContext): Promise<CheckResult> {
  let last: Omit<CheckResult, 'name' | 'attempts'> = { passed: false };
  for (let attempt = 1; attempt <= check.retries + 1; attempt++) {
    try {
      last = check.type === 'invoke' ? await invokeAttempt(check, ctx) : await httpAttempt(check, ctx);
    } catch (err) {
      // Our own API being throttled says nothing about the version under test: let the
      // state machine retry the step rather than roll back a good release.
      if (err instanceof DependencyUnavailable && attempt > check.retries) throw err;
      last = { passed: false, reason: errorMessage(err) };
    }
    if (last.passed) return { name: check.name, attempts: attempt, ...last };
    if (attempt <= check.retries) await ctx.clock.sleep(check.retryDelayMs);
  }
  return { name: check.name, attempts: check.retries + 1, ...last };
}

/** Runs every check (even after one fails, so the record shows the whole picture). */
export async function runSmokeChecks(checks: SmokeCheck[], ctx: SmokeContext): Promise<CheckResult[]> {
  return Promise.all(checks.map((c) => runCheck(c, ctx)));
}
