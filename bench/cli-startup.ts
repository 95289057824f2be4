import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeResultsSection } from './results.js';

/**
 * How long the CLI takes to answer, as a person runs it (`node local/bin/tagflow.js …`, a fresh
 * process each time): --help, argument errors (answered before TypeScript loads), and a command
 * that loads the TypeScript sources. Target (issue 14): --help and argument errors under 300 ms.
 *
 *   npx tsx bench/cli-startup.ts [--runs 15] [--print]
 */

const ROOT = join(import.meta.dirname, '..');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const START = '<!-- bench/cli-startup.ts: start -->';
const END = '<!-- bench/cli-startup.ts: end -->';
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, print: { type: 'boolean', default: false } } });
const runs = Number(values.runs);

const cases: { what: string; args: string[]; exit: number | 'any'; script?: string }[] = [
  { what: 'the floor: `node -e 0`, a Node process that does nothing', args: ['-e', '0'], exit: 0, script: '' },
  { what: '`tagflow --help`', args: ['--help'], exit: 0 },
  { what: 'unknown command (`tagflow statsu`)', args: ['statsu'], exit: 2 },
  { what: 'missing flag (`tagflow history`)', args: ['history'], exit: 2 },
  { what: 'flag the command does not take (`tagflow status --version v1`)', args: ['status', '--version', 'v1'], exit: 2 },
  { what: 'a bad value (`tagflow dora --days x`)', args: ['dora', '--days', 'x'], exit: 2 },
  { what: 'a command that loads the sources and fails on its config (`tagflow status --config missing.json`)', args: ['status', '--config', 'missing.json'], exit: 'any' },
];

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const rows: string[] = [];
for (const c of cases) {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...(c.script === '' ? [] : [join(ROOT, 'local', 'bin', 'tagflow.js')]), ...c.args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    ms.push(performance.now() - t0);
    if (c.exit !== 'any' && r.status !== c.exit) throw new Error(`${c.args.join(' ')}: exit ${r.status}, expected ${c.exit}: ${r.stderr}`);
  }
  ms.sort((a, b) => a - b);
  rows.push(`| ${c.what} | ${Math.round(quantile(ms, 0.5))} | ${Math.round(quantile(ms, 0.9))} | ${Math.round(ms.at(-1)!)} |`);
  process.stderr.write(`${c.what}: median ${Math.round(quantile(ms, 0.5))} ms\n`);
}

const section = `${START}
## CLI start-up

- date: ${new Date().toISOString()}
- machine: ${cpus().length} CPUs, ${cpus()[0]?.model.trim() ?? 'unknown'}, ${process.platform}/${process.arch}; Node ${process.version}; load average at the end ${loadavg().map((l) => l.toFixed(1)).join(', ')}
- command: \`npx tsx bench/cli-startup.ts --runs ${runs}\` (each run a fresh \`node local/bin/tagflow.js …\` process, timed from spawn to exit)
- target: \`--help\` and argument errors under 300 ms

| what | median ms | p90 ms | max ms |
| --- | ---: | ---: | ---: |
${rows.join('\n')}
${END}`;

if (values.print) console.log(section);
else writeResultsSection(RESULTS, START, END, section);
