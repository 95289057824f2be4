/** Types of arguments.js (plain JavaScript, so the bin shim runs it before TypeScript loads). */
export interface CommandSpec {
  /** A `tagflow local X` form exists (commands that run or feed executions). */
  local?: boolean;
  flags: string[];
  /** Flag → example value, for the message when it is missing. */
  required?: Record<string, string>;
  /** Groups of flags of which exactly one must be given (e.g. --service or --train). */
  oneOf?: string[][];
  /** The one positional argument it takes, e.g. NAME. */
  positional?: string;
}

export interface CliSpec {
  options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  common: string[];
  commands: Record<string, CommandSpec>;
  /** Checks of a flag's value that need no config: one of `choices`, or matching `pattern` (and > 0 if `positive`). */
  values: Record<string, { choices?: string[]; pattern?: string; positive?: boolean; expected?: string }>;
}

export type CheckedArguments =
  | { ok: true; name: string; local: boolean; values: Record<string, string | boolean | string[] | undefined>; positionals: string[] }
  | { ok: false; message: string };

export const SPEC: CliSpec;
export function checkArguments(argv: string[]): CheckedArguments;
