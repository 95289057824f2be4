import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { substitute, taskStates } from '../../local/runtime/asl.js';

const file = join(import.meta.dirname, '..', '..', 'state-machines', 'train.asl.json');
const definition = JSON.parse(substitute(readFileSync(file, 'utf8'), {
  TrainFnArn: 'arn:aws:lambda:us-east-1:000000000000:function:tagflow-train',
  ReleaseStateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:tagflow-release',
}));

describe('train.asl.json', () => {
  it('is valid ASL once its two substitutions are filled, as the interpreter (and CloudFormation) sees it', () => {
    expect(() => new StateMachine(structuredClone(definition))).not.toThrow();
  });

  it('runs its members only as release-machine executions it waits for, and conducts with the train step', () => {
    expect(taskStates(definition)).toEqual([
      { name: 'Conduct train', resource: 'arn:aws:lambda:us-east-1:000000000000:function:tagflow-train' },
      { name: 'Release member', resource: 'arn:aws:states:::states:startExecution.sync:2' },
    ]);
    expect(definition.States['Release group'].ItemProcessor.States['Release member'].Parameters.StateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:tagflow-release');
  });
});
