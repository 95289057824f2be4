/**
 * What on-call pastes into the console to start a rollback, quoted by every error about that
 * input. Apart from its schema (`rollback-input.ts`), so that a step which only quotes it
 * loads no validator.
 */
export const MANUAL_ROLLBACK_EXAMPLE = '{"service":"checkout","environment":"prod","reason":"error rate up since v2.4.0"}';
