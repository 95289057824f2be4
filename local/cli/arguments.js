// Checks the CLI's arguments against commands.json: plain JavaScript, so the bin shim answers an
// argument error before TypeScript loads (tens of milliseconds, not a second), and main.ts runs
// the same check, so both say the same thing.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** @type {import('./arguments.d.ts').CliSpec} */
export const SPEC = JSON.parse(readFileSync(new URL('./commands.json', import.meta.url), 'utf8'));

const nearest = (word, words) => {
  let best;
  let bestDistance = Infinity;
  for (const w of words) {
    const d = distance(word, w);
    if (d < bestDistance) [best, bestDistance] = [w, d];
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
};

function distance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const kept = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = kept;
    }
  }
  return row[b.length];
}

/**
 * The command and its flags, or the one-line problem: an unknown command or flag (with the
 * nearest one), a flag the command does not take, a required flag missing (with an example).
 * @param {string[]} argv
 * @returns {import('./arguments.d.ts').CheckedArguments}
 */
export function checkArguments(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: SPEC.options, allowPositionals: true, strict: true });
  } catch (err) {
    const flag = /'(--?[\w-]+)'/.exec(err.message)?.[1];
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) {
      const near = nearest(flag.replace(/^-+/, ''), Object.keys(SPEC.options));
      return { ok: false, message: `unknown flag ${flag}${near ? `; did you mean --${near}?` : ''}` };
    }
    return { ok: false, message: err.message.split('\n')[0] };
  }
  const { values, positionals } = parsed;
  const local = positionals[0] === 'local';
  const name = local ? positionals[1] : positionals[0];
  const command = name === undefined ? undefined : SPEC.commands[name];
  const commands = Object.keys(SPEC.commands);
  if (!command || (local && !command.local)) {
    const asked = positionals.slice(0, local ? 2 : 1).join(' ');
    const near = name === undefined ? undefined : nearest(name, commands);
    return { ok: false, message: `unknown command "${asked}"${near ? `; did you mean "${local && SPEC.commands[near]?.local ? 'local ' : ''}${near}"?` : ''}` };
  }
  const rest = positionals.slice(local ? 2 : 1);
  if (rest.length > (command.positional ? 1 : 0)) return { ok: false, message: `${name} takes no argument "${rest.at(-1)}"${command.positional ? ` beyond ${command.positional}` : ''}` };
  if (command.positional && rest.length === 0) return { ok: false, message: `${name} needs the ${command.positional}, e.g. tagflow ${name} inc-4211` };
  const allowed = new Set([...SPEC.common, ...command.flags]);
  const stray = Object.keys(values).filter((f) => !allowed.has(f));
  if (stray.length) return { ok: false, message: `${name} does not take ${stray.map((f) => `--${f}`).join(', ')}; it takes ${command.flags.map((f) => `--${f}`).join(', ') || 'no flags of its own'}` };
  for (const group of command.oneOf ?? []) {
    const given = group.filter((flag) => values[flag] !== undefined);
    if (given.length !== 1) return { ok: false, message: `${name} takes ${given.length ? 'only one' : 'one'} of ${group.map((f) => `--${f}`).join(' or ')}${given.length ? `, not ${given.map((f) => `--${f}`).join(' and ')}` : ''}` };
  }
  const missing = Object.entries(command.required ?? {}).filter(([flag]) => values[flag] === undefined || values[flag] === '');
  if (missing.length) return { ok: false, message: missing.map(([flag, example]) => `--${flag} is required, e.g. --${flag} ${example}`).join('; ') };
  const bad = Object.entries(values).flatMap(([flag, value]) => (typeof value === 'boolean' ? [] : [value].flat().flatMap((v) => valueProblem(flag, v) ?? [])));
  if (bad.length) return { ok: false, message: bad.join('; ') };
  return { ok: true, name, local, values, positionals: rest };
}

/** What is wrong with one flag's value, by the checks commands.json gives it. */
function valueProblem(flag, value) {
  const rule = SPEC.values[flag];
  if (!rule) return undefined;
  if (rule.choices && !rule.choices.includes(value)) return `--${flag} must be one of ${rule.choices.join(', ')}, not "${value}"`;
  if (rule.pattern && (!new RegExp(rule.pattern).test(value) || (rule.positive && !(Number(value) > 0)))) return `--${flag} ${JSON.stringify(value)}: expected ${rule.expected}`;
  return undefined;
}
