import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { ApprovalExpired } from '../lib/errors.js';
import type { TaskTokens } from '../lib/ports.js';
import { call } from './transient.js';

/** Step Functions' errors for a token whose Task no longer waits (timed out, execution ended, already answered). */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** SendTaskSuccess / SendTaskFailure: ends the waitForTaskToken Task that handed out the token. */
export class SfnTaskTokens implements TaskTokens {
  constructor(private readonly sfn: SFNClient) {}

  async succeed(taskToken: string, output: unknown): Promise<void> {
    await this.send('Step Functions SendTaskSuccess', () => this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    // The API caps `cause` at 32 768 characters.
    await this.send('Step Functions SendTaskFailure', () => this.sfn.send(new SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32_768) })));
  }

  private async send(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await call(what, fn);
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (GONE.has(name)) throw new ApprovalExpired(`the release no longer waits for this decision (${name}: ${(err as Error).message}); it timed out or ended`);
      throw err;
    }
  }
}
