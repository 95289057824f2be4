import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionSummary } from '../../runtime/runtime.js';
import type { MachineName } from '../backend.js';
import type { ProgressEvent } from '../progress.js';

const parse = (text: string | undefined): unknown => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** The state type an event names (`TaskStateEntered` → `Task`). */
const STATE_EVENT = /^(Task|Pass|Choice|Wait|Succeed|Fail|Map|Parallel)State(Entered|Exited)$/;
/** A try of a Task's work starting: a second one in the same state is a retry. */
const SCHEDULED = new Set(['LambdaFunctionScheduled', 'TaskScheduled', 'ActivityScheduled']);
const FAILED: Record<string, keyof HistoryEvent> = {
  LambdaFunctionFailed: 'lambdaFunctionFailedEventDetails',
  LambdaFunctionTimedOut: 'lambdaFunctionTimedOutEventDetails',
  LambdaFunctionScheduleFailed: 'lambdaFunctionScheduleFailedEventDetails',
  LambdaFunctionStartFailed: 'lambdaFunctionStartFailedEventDetails',
  TaskFailed: 'taskFailedEventDetails',
  TaskTimedOut: 'taskTimedOutEventDetails',
  TaskStartFailed: 'taskStartFailedEventDetails',
  TaskSubmitFailed: 'taskSubmitFailedEventDetails',
  ActivityFailed: 'activityFailedEventDetails',
  ActivityTimedOut: 'activityTimedOutEventDetails',
};

/**
 * Turns a deployed execution's history (GetExecutionHistory) into the events the progress view
 * reads from the local runtime: StateEntered/Exited with the state's type and output,
 * StateFailed with the error and cause, StateRetried when a failed Task runs again. Step
 * Functions records a failure before it knows whether a Retrier or a Catcher takes it, so a
 * failure is held until the next event tells which.
 */
export class HistoryTranslator {
  private current?: { name: string; type: string };
  private tries = 0;
  private pending?: ProgressEvent;

  translate(events: readonly HistoryEvent[]): ProgressEvent[] {
    const out: ProgressEvent[] = [];
    for (const e of events) {
      const timestamp = e.timestamp ? new Date(e.timestamp).getTime() : Date.now();
      const type = e.type ?? '';
      const state = STATE_EVENT.exec(type);
      if (SCHEDULED.has(type)) {
        this.tries += 1;
        if (this.pending && this.current && this.tries > 1) out.push({ type: 'StateRetried', timestamp, state: this.current, retry: { attempt: this.tries - 1 } });
        this.pending = undefined;
        continue;
      }
      const detailsKey = FAILED[type];
      if (detailsKey && this.current) {
        const details = e[detailsKey] as { error?: string; cause?: string } | undefined;
        this.pending = { type: 'StateFailed', timestamp, state: this.current, Error: details?.error ?? 'States.TaskFailed', Cause: details?.cause ?? '' };
        continue;
      }
      if (state) {
        this.flush(out);
        const [, stateType = '', phase] = state;
        if (phase === 'Entered') {
          this.current = { name: e.stateEnteredEventDetails?.name ?? '', type: stateType };
          this.tries = 0;
          out.push({ type: 'StateEntered', timestamp, state: this.current });
        } else {
          out.push({ type: 'StateExited', timestamp, state: { name: e.stateExitedEventDetails?.name ?? this.current?.name ?? '', type: stateType, output: parse(e.stateExitedEventDetails?.output) } });
        }
        continue;
      }
      if (type === 'FailStateEntered') continue;
      if (type.startsWith('Execution') && type !== 'ExecutionStarted') this.flush(out);
    }
    return out;
  }

  /** A held failure that no retry followed: the state failed (caught, or the execution's end). */
  private flush(out: ProgressEvent[]): void {
    if (this.pending) out.push(this.pending);
    this.pending = undefined;
  }
}

const ENDED = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

export interface FollowOptions {
  /** Between two reads of the history. @default 2000 */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Follows a deployed execution to its end: reads the events added since the last read (the
 * history newest first, back to the last event seen, so a long canary is not re-read at each
 * poll), shows them, and returns what DescribeExecution says at the end.
 */
export async function followExecution(sfn: SFNClient, executionArn: string, machine: MachineName, onEvent: (e: ProgressEvent) => void, opts: FollowOptions = {}): Promise<ExecutionSummary> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const translator = new HistoryTranslator();
  let lastId = 0;
  for (;;) {
    const fresh: HistoryEvent[] = [];
    let nextToken: string | undefined;
    page: do {
      const res = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, includeExecutionData: true, maxResults: 100, ...(nextToken ? { nextToken } : {}) }));
      for (const e of res.events ?? []) {
        if ((e.id ?? 0) <= lastId) break page;
        fresh.push(e);
      }
      nextToken = res.nextToken;
    } while (nextToken);
    fresh.reverse();
    if (fresh.length) lastId = fresh.at(-1)?.id ?? lastId;
    for (const e of translator.translate(fresh)) onEvent(e);
    if (fresh.some((e) => ENDED.has(e.type ?? ''))) break;
    await sleep(opts.pollMs ?? 2000);
  }
  return describeSummary(sfn, executionArn, machine);
}

export async function describeSummary(sfn: SFNClient, executionArn: string, machine: MachineName): Promise<ExecutionSummary> {
  const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const status = d.status === 'RUNNING' || d.status === 'PENDING_REDRIVE' || d.status === undefined ? 'FAILED' : d.status;
  return {
    executionArn,
    name: d.name ?? executionArn.split(':').pop() ?? executionArn,
    machine,
    status,
    input: parse(d.input),
    ...(d.output !== undefined ? { output: parse(d.output) } : {}),
    ...(d.error !== undefined ? { error: d.error } : {}),
    ...(d.cause !== undefined ? { cause: readableCause(d.cause) } : {}),
    startedAt: (d.startDate ?? new Date()).toISOString(),
    stoppedAt: (d.stopDate ?? new Date()).toISOString(),
    history: [],
  };
}

/** A Lambda error's cause is the runtime's JSON; its message is what a person reads. */
function readableCause(cause: string): string {
  const parsed = parse(cause) as { errorMessage?: unknown } | undefined;
  return typeof parsed === 'object' && parsed && typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
}

/** The execution's page in the Step Functions console. */
export function consoleUrl(executionArn: string): string {
  const region = executionArn.split(':')[3] ?? 'us-east-1';
  const host = region.startsWith('cn-') ? `${region}.console.amazonaws.cn` : `${region}.console.aws.amazon.com`;
  return `https://${host}/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}
