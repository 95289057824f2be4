import { approvals } from '../adapters/aws/approvals.js';
import { config } from '../adapters/aws/config.js';
import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { stepHandler } from '../lib/step-handler.js';
import { verifyApproval } from '../lib/steps/verify-approval.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = verifyApproval;
export const handler = stepHandler('verify-approval', run, () => ({ ...common(), config, ledger: ledger(), approvals: approvals() }));
