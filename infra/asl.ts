import { readFileSync } from 'node:fs';

/**
 * What the stack needs to know about an Amazon States Language file: the `${…}` definition
 * substitutions it expects and the timeout of each Lambda Task, so the functions' own
 * timeouts follow the one definition instead of a second list that drifts.
 *
 * A Task invokes a function when its `Resource` is `${XFnArn}`, or when it is
 * `arn:aws:states:::lambda:invoke` with `Parameters.FunctionName` `${XFnArn}`: the Task waits
 * for the function's result, so its `TimeoutSeconds` bounds the invocation. A callback Task
 * (`arn:aws:states:::lambda:invoke.waitForTaskToken`) is different: its `TimeoutSeconds` or
 * `TimeoutSecondsPath` bounds the wait for someone to return the token (hours, for an
 * approval), not the invocation, which only hands the token on. Such an invocation counts as
 * `CALLBACK_INVOCATION_TIMEOUT_SECONDS`.
 */
export interface AslFacts {
  /** Every `${Name}` the definition uses, e.g. `TestsGateFnArn`, `EventBusName`. */
  placeholders: Set<string>;
  /** For each function placeholder a Task invokes: the smallest timeout of those invocations (see above; no `TimeoutSeconds`: Infinity). */
  taskTimeouts: Map<string, number>;
  /** The literal service-integration Resources (`arn:aws:states:::events:putEvents`, …). */
  integrations: Set<string>;
}

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** How long a function invoked by a callback Task may run: it stores or sends the token and returns. */
export const CALLBACK_INVOCATION_TIMEOUT_SECONDS = 30;
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

export function placeholdersIn(text: string): Set<string> {
  return new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!));
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Visits every state, including those inside Parallel branches and Map processors. */
function eachState(machine: Json, visit: (state: Json) => void): void {
  const states = machine.States;
  if (!isObject(states)) return;
  for (const state of Object.values(states)) {
    if (!isObject(state)) continue;
    visit(state);
    for (const branch of Array.isArray(state.Branches) ? state.Branches : []) if (isObject(branch)) eachState(branch, visit);
    for (const inner of [state.Iterator, state.ItemProcessor]) if (isObject(inner)) eachState(inner, visit);
  }
}

export function aslFacts(text: string, source: string): AslFacts {
  let machine: unknown;
  try {
    machine = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(machine)) throw new Error(`${source}: expected a state machine object`);
  const taskTimeouts = new Map<string, number>();
  const integrations = new Set<string>();
  const placeholderOf = (v: unknown) => (typeof v === 'string' ? /^\$\{([A-Za-z0-9_]+)\}$/.exec(v)?.[1] : undefined);
  eachState(machine, (state) => {
    if (state.Type !== 'Task' || typeof state.Resource !== 'string') return;
    let placeholder = placeholderOf(state.Resource);
    if (!placeholder) {
      integrations.add(state.Resource);
      if (state.Resource !== LAMBDA_INVOKE && state.Resource !== LAMBDA_CALLBACK) return;
      placeholder = placeholderOf(isObject(state.Parameters) ? state.Parameters.FunctionName : undefined);
      if (!placeholder) return;
    }
    const timeout =
      state.Resource === LAMBDA_CALLBACK ? CALLBACK_INVOCATION_TIMEOUT_SECONDS : typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : Infinity;
    taskTimeouts.set(placeholder, Math.min(taskTimeouts.get(placeholder) ?? Infinity, timeout));
  });
  return { placeholders: placeholdersIn(text), taskTimeouts, integrations };
}

export const readAslFacts = (file: string): AslFacts => aslFacts(readFileSync(file, 'utf8'), file);
