import type { ExecutionSummary } from '../runtime/runtime.js';

/**
 * What the progress view reads of an execution event: the local runtime's event log has this
 * shape, and a deployed execution's history is translated into it (local/cli/aws/sfn-progress.ts).
 */
export interface ProgressEvent {
  type: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  state?: { name: string; type: string; output?: unknown };
  index?: number;
  Error?: string;
  Cause?: unknown;
  retry?: { attempt: number };
}

/** A live, readable view of an execution: one line per state, with timings, retries and errors. */

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (useColor ? `\u001b[${code}m${s}\u001b[0m` : s);
export const green = paint(32);
export const red = paint(31);
export const yellow = paint(33);
export const dim = paint(2);
export const bold = paint(1);

function readable(cause: unknown): string {
  const text = typeof cause === 'string' ? cause : JSON.stringify(cause ?? '');
  try {
    const parsed = JSON.parse(text) as { errorMessage?: string };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // plain text
  }
  return text;
}

export function progressPrinter(write: (line: string) => void) {
  const entered = new Map<string, number>();
  const failed = new Set<string>();
  const key = (e: { state?: { name: string }; index?: number }) => `${e.index ?? ''}/${e.state?.name ?? ''}`;
  const prefix = (e: { index?: number }) => (e.index !== undefined ? dim(`[${e.index}] `) : '');
  return (e: ProgressEvent) => {
    switch (e.type) {
      case 'StateEntered':
        entered.set(key(e), e.timestamp);
        break;
      case 'StateExited': {
        if (e.state?.type === 'Choice') break;
        if (e.state?.type === 'Pass') {
          const env = (e.state.output as { stage?: { environment?: { name?: string } } } | undefined)?.stage?.environment?.name;
          if (e.state.name === 'Enter environment' && env) write(bold(`  ── ${env} ──`));
          break;
        }
        if (failed.delete(key(e))) break; // its failure line said it all
        const ms = e.timestamp - (entered.get(key(e)) ?? e.timestamp);
        write(`  ${prefix(e)}${green('✓')} ${e.state?.name.padEnd(28)} ${dim(`${ms} ms`)}`);
        const policy = (e.state?.output as { stage?: { policy?: { action?: string; reason?: string; until?: string } } } | undefined)?.stage?.policy;
        if (e.state?.name === 'Check deploy policy' && policy?.action === 'wait') write(`    ${yellow('⏸')} ${policy.reason} ${dim('(simulated locally: the clock jumps there)')}`);
        if (e.state?.name === 'Check deploy policy' && policy?.action === 'approve') write(`    ${yellow('⏸')} ${policy.reason}`);
        if (e.state?.name === 'Check deploy policy' && policy?.action === 'skip') write(`    ${dim('↷')} ${policy.reason}`);
        const canary = (e.state?.output as { stage?: { canary?: { next?: string; weight?: number; hold?: { reason?: string } } } } | undefined)?.stage?.canary;
        if (e.state?.name === 'Judge canary' && canary?.next === 'hold') write(`    ${yellow('⏸')} held at ${canary.weight}%: ${canary.hold?.reason ?? 'inconclusive at the bake bound'}`);
        break;
      }
      case 'StateRetried':
        write(`  ${prefix(e)}${yellow('↻')} ${e.state?.name} ${dim(`retry ${e.retry?.attempt ?? ''}`)}`);
        break;
      case 'StateFailed':
        if (e.state?.type === 'Map' || e.state?.type === 'Fail') break;
        failed.add(key(e));
        write(`  ${prefix(e)}${red('✗')} ${e.state?.name.padEnd(28)} ${red(e.Error ?? 'Error')}: ${readable(e.Cause)}`);
        break;
      default:
        break;
    }
  };
}

export function describeOutcome(s: ExecutionSummary): string {
  const seconds = ((Date.parse(s.stoppedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1);
  const output = s.output as
    | { outcome?: { reason?: string }; action?: string; reason?: string; claim?: { claimed?: boolean; reason?: string }; prepared?: { action?: string; reason?: string; fromVersion?: string; toVersion?: string }; environment?: string }
    | undefined;
  if (s.status === 'SUCCEEDED') {
    if (output?.action === 'ignore') return `${yellow('• IGNORED')} in ${seconds} s — ${output.reason}`;
    if (output?.prepared?.action === 'nothing') return `${yellow('• NOTHING TO ROLL BACK')} in ${seconds} s — ${output.prepared.reason}`;
    if (output?.prepared?.action === 'remove-canary') return `${green('✔ CANARY REMOVED')} in ${seconds} s — canary ${output.prepared.fromVersion} removed from ${output.environment}; all traffic on ${output.prepared.toVersion}: ${output.reason}`;
    if (output?.prepared?.action === 'rollback') return `${green('✔ ROLLED BACK')} in ${seconds} s — ${output.environment} from ${output.prepared.fromVersion} to ${output.prepared.toVersion}: ${output.reason}`;
    if (output?.claim?.claimed === false) return `${yellow('• DUPLICATE')} in ${seconds} s — ${output.claim.reason}`;
    return `${green('✔ SUCCEEDED')} in ${seconds} s — ${output?.outcome?.reason ?? 'done'}`;
  }
  return `${red(`✘ ${s.status}`)} (${s.error}) in ${seconds} s — ${s.cause ?? ''}`;
}
