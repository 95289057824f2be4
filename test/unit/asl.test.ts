import { describe, expect, it } from 'vitest';
import { StateMachine } from 'aws-local-stepfunctions';
import { STEP_NAMES, placeholderOf } from '../../lambdas/steps.js';
import { placeholders, readAsl, substitute, taskStates, type MachineName } from '../../local/runtime/asl.js';
import { localSubstitutions } from '../../local/runtime/runtime.js';

/** The ASL files are the one definition; these are the rules every state in them keeps. */

type State = { Type: string; Resource?: string; TimeoutSeconds?: number; Retry?: { ErrorEquals: string[] }[]; Catch?: { Next: string }[]; Next?: string; Default?: string; Choices?: { Next: string }[]; End?: boolean };
const machines: MachineName[] = ['release', 'rollback'];
const definition = (m: MachineName) => JSON.parse(readAsl(m)) as { StartAt: string; States: Record<string, State> };

describe.each(machines)('%s.asl.json', (machine) => {
  const def = definition(machine);

  it('is valid ASL once substituted, as the interpreter (and CloudFormation) sees it', () => {
    expect(() => new StateMachine(JSON.parse(substitute(readAsl(machine), localSubstitutions())))).not.toThrow();
  });

  it('names only Lambda steps that exist, through their placeholders', () => {
    const known = new Set([...STEP_NAMES.map(placeholderOf), 'EventBusName']);
    expect(placeholders(readAsl(machine)).filter((p) => !known.has(p))).toEqual([]);
    for (const { resource } of taskStates(def)) {
      expect(resource.startsWith('${') || resource.startsWith('arn:aws:states:::')).toBe(true);
    }
  });

  it('gives every Task a timeout and retries transient Lambda failures on every Lambda Task', () => {
    for (const [name, s] of Object.entries(def.States)) {
      if (s.Type !== 'Task') continue;
      expect(s.TimeoutSeconds, `${name} has no TimeoutSeconds`).toBeGreaterThan(0);
      expect(s.Retry?.length, `${name} has no Retry`).toBeGreaterThan(0);
      if (s.Resource?.startsWith('${')) {
        const retried = s.Retry!.flatMap((r) => r.ErrorEquals);
        for (const e of ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException', 'DependencyUnavailable']) expect(retried, `${name} does not retry ${e}`).toContain(e);
      }
    }
  });

  it('has no dangling transitions and no unreachable states', () => {
    const names = new Set(Object.keys(def.States));
    const reachable = new Set<string>();
    const visit = (n: string) => {
      if (reachable.has(n)) return;
      expect(names.has(n), `transition to missing state ${n}`).toBe(true);
      reachable.add(n);
      const s = def.States[n]!;
      for (const next of [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next), ...(s.Catch ?? []).map((c) => c.Next)]) if (next) visit(next);
    };
    visit(def.StartAt);
    expect([...names].filter((n) => !reachable.has(n))).toEqual([]);
  });

  it('ends every failure path in a Fail state that carries the error name', () => {
    for (const [name, s] of Object.entries(def.States)) {
      if (s.Type === 'Fail') expect((s as { ErrorPath?: string }).ErrorPath, `${name} drops the error name`).toBeDefined();
    }
  });
});
