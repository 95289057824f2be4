/**
 * The deployment policy's fixed numbers and names, apart from its config schema
 * (`policy-config.ts`) so that the steps which apply the policy load no zod.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * The release machine's own `TimeoutSeconds` (state-machines/release.asl.json, checked by a
 * test): every wait the policy may add has to fit in it, or the execution would time out
 * mid-wait with a cause nobody can read.
 */
export const RELEASE_TIMEOUT_HOURS = 336;
/** What a release needs besides policy waits (tests gate, canaries, locks), kept free in that budget. */
export const RELEASE_WORK_HOURS = 24;

/** How many distinct approvers an emergency release needs. */
export const REQUIRED_APPROVALS = 2;
