/**
 * Lets esbuild hoist the SDK's event-stream support like the rest of the SDK, as an esbuild
 * plugin of the handlers' build (`infra/bundle-handlers.ts`): the files are transformed in
 * memory as esbuild loads them; node_modules is never written to.
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
 * Only the ES build is bundled: Node's CommonJS build of the same method, which the tests
 * load, already `require`s the module synchronously, where it is used.
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';
import type { TransformStats } from './literal-schema-keys.js';

const DYNAMIC = 'await import("@smithy/core/event-streams")';
const BINDING = '__tagflowEventStreams';
const STATIC = `import * as ${BINDING} from "@smithy/core/event-streams";\n`;

/** `await import("@smithy/core/event-streams")` → a namespace imported statically at the top. */
export function staticEventStreams(text: string): { text: string; replaced: number } {
  const replaced = text.split(DYNAMIC).length - 1;
  if (replaced === 0) return { text, replaced };
  return { text: STATIC + text.replaceAll(DYNAMIC, BINDING), replaced };
}

/** The ES modules of `@smithy/core` that can load the event-stream module (its protocols), as an esbuild filter. */
export const EVENT_STREAM_IMPORTER = /[\\/]node_modules[\\/]@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]protocols[\\/][^\\/]+\.js$/;

/** The esbuild plugin: loads each protocol module with the event-stream module imported statically. */
export function staticEventStreamsPlugin(stats?: TransformStats): Plugin {
  return {
    name: 'tagflow-static-event-streams',
    setup(build) {
      build.onLoad({ filter: EVENT_STREAM_IMPORTER }, async (args) => {
        const { text, replaced } = staticEventStreams(await readFile(args.path, 'utf8'));
        if (stats) {
          stats.loaded++;
          if (replaced > 0) stats.changed++;
          stats.replaced += replaced;
        }
        return { contents: text, loader: 'js' };
      });
    },
  };
}
