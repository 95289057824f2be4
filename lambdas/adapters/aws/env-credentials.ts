import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles: the esbuild alias in
 * infra/bundling.ts resolves that package to this file.
 *
 * Why: every SDK client's runtime config imports that package's `defaultProvider` statically,
 * so giving a client `credentials: fromEnv()` leaves the whole default chain in its bundle (SSO,
 * ini files, credential processes, web identity, container and instance metadata, and the
 * STS/SSO/sign-in clients they use): 116–140 KB of each step's bundle, measured by metafile,
 * that a Lambda function never runs. Lambda hands a function its role's credentials in
 * environment variables only (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
 * which is the chain's first link: this is that link alone, with the SDK's own provider.
 *
 * Only the bundles use it; code run from source (the local runtime, the tests) keeps the SDK's
 * chain, and the local runtime gives its clients static credentials anyway.
 */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);
