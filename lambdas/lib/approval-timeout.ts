/**
 * A waitForTaskToken Task's timeout for `policy.approvalTimeoutHours`: whole seconds, at least
 * one. Its own module: the judge needs it, and policy-config.ts would bring zod along.
 */
export const approvalTimeoutSeconds = (hours: number): number => Math.max(1, Math.ceil(hours * 3600));
