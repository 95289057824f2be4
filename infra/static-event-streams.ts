/**
 * Lets esbuild hoist the SDK's event-stream support like the rest of the SDK; applied after
 * every install by `infra/patch-sdk.ts`.
 *
 * `HttpProtocol.loadEventStreamCapability()` in `@smithy/core` loads the event-stream module
 * with `await import("@smithy/core/event-streams")`. A bundle without code splitting keeps the
 * module but must evaluate it lazily, so esbuild wraps it, and every module it reaches, in an
 * `__esm` initialiser: 187 of them in the rollback bundle, a good part of `@smithy/core`. A
 * wrapped module's code is parsed twice at a cold start: preparsed when the bundle compiles,
 * parsed in full when its initialiser runs. The bundles hold the event-stream module anyway
 * (the S3 and Lambda clients import it statically), so a static import adds nothing and builds
 * the same objects, once, when the bundle loads; the rollback bundle then imports in about an
 * eighth fewer instructions (bench/RESULTS.md).
 *
 * Only the ES build is patched: Node's CommonJS build of the same method already `require`s
 * the module synchronously, where it is used.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const DYNAMIC = 'await import("@smithy/core/event-streams")';
const BINDING = '__tagflowEventStreams';
const STATIC = `import * as ${BINDING} from "@smithy/core/event-streams";\n`;

/** `await import("@smithy/core/event-streams")` → a namespace imported statically at the top. */
export function staticEventStreams(text: string): { text: string; replaced: number } {
  const replaced = text.split(DYNAMIC).length - 1;
  if (replaced === 0) return { text, replaced };
  return { text: STATIC + text.replaceAll(DYNAMIC, BINDING), replaced };
}

/** The ES modules of `@smithy/core` that can load the event-stream module (its protocols). */
export function eventStreamImporters(root: string): string[] {
  const dir = join(root, 'node_modules', '@smithy', 'core', 'dist-es', 'submodules', 'protocols');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => join(dir, f)) : [];
}
