import { closest } from '../../lambdas/lib/validation.js';
import { NothingMatches } from './cli-errors.js';

/** `--flag value` named nothing among `known`: the error says so, and which one was probably meant. */
export function nothingMatches(flag: string, value: string, known: readonly string[], what: string, where: string): NothingMatches {
  const guess = closest(value, known);
  const listed = known.length === 0 ? `there are no ${what}s ${where}` : `${what}s ${where}: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''}`;
  return new NothingMatches(`${flag} ${value}: no such ${what}${guess ? `; did you mean ${flag} ${guess}?` : ''} (${listed})`);
}
