/** What a Step Functions `Catch` hands on: `{Error, Cause}`. */
export interface StepFailure {
  Error: string;
  Cause?: string;
}

/**
 * The error name and a readable message. In AWS, a Lambda error's Cause is the JSON the
 * runtime wrote (`{"errorType","errorMessage","trace"}`); locally it is the message itself.
 */
export function describeFailure(f: StepFailure | undefined): { error: string; message: string } {
  if (!f) return { error: 'Unknown', message: 'no failure details' };
  const cause = f.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return { error: f.Error, message: parsed.errorMessage };
  } catch {
    // not JSON: the cause is the message
  }
  return { error: f.Error, message: cause || f.Error };
}
