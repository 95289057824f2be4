import { build } from 'esbuild';
import { ESBUILD_OPTIONS } from '../infra/bundling.js';
const [name, ...steps] = process.argv.slice(2);
const extra = JSON.parse(process.env.EXTRA ?? '{}');
const r = await build({ ...ESBUILD_OPTIONS, mainFields: [...ESBUILD_OPTIONS.mainFields], external: [...ESBUILD_OPTIONS.external, ...(extra.external ?? [])], ...(extra.opts ?? {}),
  entryPoints: Object.fromEntries(steps.map((s) => [`${s}/index`, `lambdas/${s}/handler.ts`])), outdir: `/tmp/prof/${name}`, absWorkingDir: process.cwd(), metafile: true });
for (const [p, o] of Object.entries(r.metafile!.outputs)) if (p.endsWith('.mjs')) console.log(p, (o.bytes / 1024).toFixed(1));
