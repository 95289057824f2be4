/**
 * Stands in for the `node:process` module in the Lambda bundles (the esbuild alias in
 * infra/bundling.ts): the global `process`, under the names the bundled SDK imports.
 *
 * Why: Node builds the ES module namespace of `node:process` by reading every property of
 * `process`, which runs its lazy getters: it opens stdin, stdout and stderr and builds
 * `allowedNodeEnvironmentFlags`. That took about 14 ms of an import here, and about 12 million
 * instructions of each bundle's (bench/RESULTS.md), for the two values the SDK's user-agent
 * code imports (`env`, `versions`), which the global gives for nothing. A bundled module that
 * imports a name not exported here fails the build, loudly.
 */
export const { env, versions } = process;
export default process;
