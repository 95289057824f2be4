#!/usr/bin/env node
// The tagflow CLI: runs the TypeScript sources through tsx (installed with the package).
// --help (and no arguments) is answered before tsx loads: the usage text is plain text.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
  process.stdout.write(readFileSync(new URL('../cli/usage.txt', import.meta.url), 'utf8'));
  process.exit(args.length === 0 ? 2 : 0);
}
const { register } = await import('tsx/esm/api');
register();
await import('../cli/tagflow.ts');
