import { randomUUID } from 'node:crypto';
import { ApprovalExpired } from '../../lambdas/lib/errors.js';
import type { TaskTokens } from '../../lambdas/lib/ports.js';

interface Waiting {
  executionArn: string;
  resolve: (output: unknown) => void;
  reject: (err: Error) => void;
}

/**
 * Step Functions' task tokens, in process: a waitForTaskToken state takes a token and waits on
 * it; SendTaskSuccess / SendTaskFailure (`succeed` / `fail`) end that wait. A token whose
 * execution ended answers as AWS does, with an error (`ApprovalExpired` here).
 */
export class LocalTaskTokens implements TaskTokens {
  private readonly waiting = new Map<string, Waiting>();

  /** A fresh token and the promise its Task waits on. */
  issue(executionArn: string): { token: string; result: Promise<unknown> } {
    const token = `local-task-${randomUUID()}`;
    const result = new Promise<unknown>((resolve, reject) => this.waiting.set(token, { executionArn, resolve, reject }));
    return { token, result };
  }

  async succeed(taskToken: string, output: unknown): Promise<void> {
    const w = this.take(taskToken);
    // JSON both ways, as SendTaskSuccess's `output` string.
    w.resolve(JSON.parse(JSON.stringify(output ?? null)));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    const w = this.take(taskToken);
    const err = new Error(cause);
    err.name = error;
    w.reject(err);
  }

  /** An execution ended: its tokens can no longer be answered. */
  forget(executionArn: string): void {
    for (const [token, w] of this.waiting) if (w.executionArn === executionArn) this.waiting.delete(token);
  }

  private take(taskToken: string): Waiting {
    const w = this.waiting.get(taskToken);
    if (!w) throw new ApprovalExpired(`task token ${taskToken.slice(0, 24)}… no longer waits: its Task timed out or its execution ended`);
    this.waiting.delete(taskToken);
    return w;
  }
}
