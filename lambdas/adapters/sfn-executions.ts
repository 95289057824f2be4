import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionStatus, Executions } from '../lib/ports.js';
import { call } from './transient.js';

/** Whether an execution still runs, as Step Functions says (DescribeExecution); undefined when it does not know the execution. */
export class SfnExecutions implements Executions {
  constructor(private readonly sfn: SFNClient) {}

  async status(executionArn: string): Promise<ExecutionStatus | undefined> {
    try {
      const res = await call(`Step Functions DescribeExecution ${executionArn}`, () => this.sfn.send(new DescribeExecutionCommand({ executionArn })));
      // A redrivable failed execution is not running: its lock is as dead as a FAILED one's.
      return res.status === 'PENDING_REDRIVE' ? 'FAILED' : res.status;
    } catch (err) {
      if ((err as { name?: string }).name === 'ExecutionDoesNotExist') return undefined;
      throw err;
    }
  }
}
