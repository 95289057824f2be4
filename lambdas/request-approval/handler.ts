import { approvalChannel, approvals } from '../adapters/aws/approvals.js';
import { config } from '../adapters/aws/config.js';
import { common } from '../adapters/aws/env.js';
import { events } from '../adapters/aws/events.js';
import { ledger } from '../adapters/aws/ledger.js';
import { stepHandler } from '../lib/step-handler.js';
import { requestApproval } from '../lib/steps/request-approval.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = requestApproval;
export const handler = stepHandler('request-approval', run, () => ({
  ...common(),
  config,
  ledger: ledger(),
  approvals: approvals(),
  events: events(),
  approvalChannel: approvalChannel(),
}));
