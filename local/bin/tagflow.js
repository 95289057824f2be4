#!/usr/bin/env node
// The tagflow CLI: runs the TypeScript sources through tsx (installed with the package).
// --help (and no arguments) and argument errors are answered before tsx loads: the usage text is
// plain text and the arguments are checked by plain JavaScript against local/cli/commands.json.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
  process.stdout.write(readFileSync(new URL('../cli/usage.txt', import.meta.url), 'utf8'));
  process.exit(args.length === 0 ? 2 : 0);
}
const { checkArguments } = await import('../cli/arguments.js');
const checked = checkArguments(args);
if (!checked.ok) {
  const paint = process.stderr.isTTY && !process.env.NO_COLOR;
  process.stderr.write(`${paint ? '\u001b[31merror:\u001b[0m' : 'error:'} ${checked.message}\n${paint ? '\u001b[2m' : ''}tagflow --help lists every command and flag${paint ? '\u001b[0m' : ''}\n`);
  process.exit(2);
}
const { register } = await import('tsx/esm/api');
register();
await import('../cli/tagflow.ts');
