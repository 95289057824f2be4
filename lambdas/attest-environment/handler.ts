import { common, locations } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { store } from '../adapters/aws/store.js';
import { verificationSigner } from '../adapters/aws/verification-signer.js';
import { stepHandler } from '../lib/step-handler.js';
import { attestEnvironment } from '../lib/steps/attest-environment.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = attestEnvironment;
export const handler = stepHandler('attest-environment', run, () => {
  const signer = verificationSigner();
  return { ...common(), ledger: ledger(), store: store(), locations: locations(), ...(signer ? { verificationSigner: signer } : {}) };
});
