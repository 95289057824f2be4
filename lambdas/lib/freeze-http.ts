import { createHash } from 'node:crypto';
import { checkPresignedUrl } from './approval-proof.js';
import { matchApprover } from './approver-principal.js';
import { ApproverNotAllowed, errorMessage, errorName, IdentityNotVerified, InvalidInput } from './errors.js';
import { describeFreeze, freeze, FreezeInputError, unfreeze } from './freezes.js';
import { acknowledgeDrift } from './drift-acknowledge.js';
import type { Deps, IdentityVerifier, LedgerFreeze } from './ports.js';
import type { DriftMark } from './types.js';

/**
 * `tagflow freeze|unfreeze --stack`: a freeze declared through the approval function URL, so
 * who froze and who unfroze is the signer STS names for a presigned GetCallerIdentity bound to
 * exactly this freeze (approval-proof.ts), as for approvals: never a field of the body. Only
 * `policy.approvers` may freeze or unfreeze (the people trusted with the release gates; a
 * forged unfreeze would open them). The body:
 *   {"action":"freeze","name","environments":[…],"service"?,"until","reason","identity":{"getCallerIdentityUrl"}}
 *   {"action":"unfreeze","name","identity":{"getCallerIdentityUrl"}}
 *   {"action":"acknowledge-drift","service","environment","reason","identity":{"getCallerIdentityUrl"}}
 */

export type FreezeAction =
  | { action: 'freeze'; name: string; environments: string[]; service?: string; until: string; reason: string }
  | { action: 'unfreeze'; name: string }
  // `tagflow drift --acknowledge --stack`: accepts a marked drift (drift-acknowledge.ts) as the signer.
  | { action: 'acknowledge-drift'; service: string; environment: string; reason: string };

const FREEZE_EXAMPLE = '{"action":"freeze","name":"inc-4211","environments":["prod"],"until":"2026-12-02T09:00Z","reason":"INC-4211: payments degraded"}';
const hash = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The binding header's value for one freeze action: a proof made for one freeze (or an approval, `tagflow-approval/1 …`) is refused by STS for any other. */
export function freezeBindingOf(a: FreezeAction): string {
  if (a.action === 'unfreeze') return `tagflow-freeze/1 action=unfreeze name=${a.name}`;
  if (a.action === 'acknowledge-drift') return `tagflow-freeze/1 action=acknowledge-drift service=${a.service} environment=${a.environment} reason=${hash(a.reason)}`;
  return `tagflow-freeze/1 action=freeze name=${a.name} service=${a.service ?? '*'} environments=${hash(a.environments.join(','))} until=${a.until} reason=${hash(a.reason)}`;
}

/** Whether a body sent to the approval URL is a freeze action (the rest are approval decisions). */
export const isFreezeBody = (body: Record<string, unknown>) => body.action === 'freeze' || body.action === 'unfreeze' || body.action === 'acknowledge-drift';

function parseAction(fields: Record<string, unknown>): FreezeAction {
  const str = (k: string) => (typeof fields[k] === 'string' ? (fields[k] as string) : undefined);
  const problems: { field: string; problem: string }[] = [];
  if (fields.action === 'acknowledge-drift') {
    for (const k of ['service', 'environment', 'reason']) if (!str(k)) problems.push({ field: k, problem: 'expected a string' });
    if (problems.length) throw new InvalidInput(problems, '{"action":"acknowledge-drift","service":"checkout","environment":"prod","reason":"INC-7: hotfix applied by hand"}');
    return { action: 'acknowledge-drift', service: str('service')!, environment: str('environment')!, reason: str('reason')! };
  }
  const name = str('name');
  if (!name) problems.push({ field: 'name', problem: 'expected the freeze name string' });
  if (fields.action === 'unfreeze') {
    if (problems.length) throw new InvalidInput(problems, FREEZE_EXAMPLE);
    return { action: 'unfreeze', name: name! };
  }
  const environments = Array.isArray(fields.environments) && fields.environments.every((e) => typeof e === 'string') ? (fields.environments as string[]) : undefined;
  if (!environments) problems.push({ field: 'environments', problem: 'expected a list of environment names' });
  for (const k of ['until', 'reason']) if (!str(k)) problems.push({ field: k, problem: 'expected a string' });
  if (fields.service !== undefined && !str('service')) problems.push({ field: 'service', problem: 'expected a string' });
  if (problems.length) throw new InvalidInput(problems, FREEZE_EXAMPLE);
  return { action: 'freeze', name: name!, environments: environments!, ...(str('service') ? { service: str('service')! } : {}), until: str('until')!, reason: str('reason')! };
}

export interface FreezeHttpResponse {
  status: number;
  body: { message: string; freeze?: LedgerFreeze; drift?: DriftMark; error?: string };
}

const STATUS: Record<string, number> = { InvalidInput: 400, FreezeInputError: 400, DriftAcknowledgeError: 400, IdentityNotVerified: 403, ApproverNotAllowed: 403, DependencyUnavailable: 503 };

type FreezeDeps = Pick<Deps, 'config' | 'ledger' | 'clock' | 'log'> & { identity: IdentityVerifier };

/** One freeze action from the approval URL: verified signer, an approver, then the same core as the local command. */
export async function handleFreezeRequest(req: { urlSignerArn: string | undefined; account: string | undefined; fields: Record<string, unknown> & { identity?: unknown } }, deps: FreezeDeps): Promise<FreezeHttpResponse> {
  let caller: string | undefined;
  try {
    const { identity, ...fields } = req.fields;
    const action = parseAction(fields);
    const now = deps.clock.now();
    const proof = checkPresignedUrl(identity !== null && typeof identity === 'object' ? (identity as Record<string, unknown>).getCallerIdentityUrl : undefined, now);
    const verified = await deps.identity.callerOf(proof.url, freezeBindingOf(action));
    caller = verified.arn;
    if (req.urlSignerArn !== undefined && req.urlSignerArn !== verified.arn) throw new IdentityNotVerified(`the request was sent as ${req.urlSignerArn} but its identity was signed by ${verified.arn}; one person signs both`);
    const config = await deps.config();
    const match = matchApprover(verified.arn, config.policy?.approvers ?? [], req.account);
    if (!match.ok) throw new ApproverNotAllowed(`only policy.approvers may ${action.action}: ${match.reason}`);
    if (action.action === 'acknowledge-drift') {
      const mark = await acknowledgeDrift(deps.ledger, config, action, now, verified.arn);
      deps.log.info(`drift acknowledged by ${verified.arn}`, { service: action.service, environment: action.environment, drift: mark });
      return { status: 200, body: { message: `acknowledged the drift of ${action.service} ${action.environment} (the ledger has ${mark.expected}; it serves ${mark.actual})`, drift: mark } };
    }
    const done =
      action.action === 'freeze'
        ? await freeze(deps.ledger, config, { name: action.name, environments: action.environments.join(','), service: action.service, until: action.until, reason: action.reason }, now, verified.arn)
        : await unfreeze(deps.ledger, action.name, now, verified.arn);
    deps.log.info(`${action.action} by ${verified.arn}`, { freeze: done });
    return { status: 200, body: { message: `${action.action === 'freeze' ? 'declared' : 'unfroze'} ${describeFreeze(done)}`, freeze: done } };
  } catch (err) {
    const status = STATUS[errorName(err)] ?? (err instanceof FreezeInputError ? 400 : 500);
    deps.log[status >= 500 ? 'error' : 'warn']('freeze refused', { caller, error: errorName(err), reason: errorMessage(err) });
    return { status, body: { error: errorName(err), message: status === 500 ? 'the freeze could not be recorded; try again (see the function log)' : errorMessage(err) } };
  }
}
