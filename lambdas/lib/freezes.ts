import type { PipelineConfig } from './config.js';
import type { Ledger, LedgerFreeze } from './ports.js';

/**
 * `tagflow freeze` and `tagflow unfreeze`: an incident freeze written to the ledger, so it
 * holds at the next `Check deploy policy` without a deploy. The policy step treats it exactly
 * as a `policy.freezes[]` entry (a freeze wins over a window; an emergency with two approvers
 * overrides it).
 *
 * Who froze and who unfroze is the caller's identity: locally the OS user (user@host), as the
 * other local commands record it; in AWS the signer of the request, verified by STS as for
 * approvals (freeze-http.ts), never a field of the request.
 */

/** A bad `tagflow freeze` / `unfreeze` input; the message names the flag. */
export class FreezeInputError extends Error {
  override name = 'FreezeInputError';
}

export interface FreezeFlags {
  environments?: string | undefined;
  until?: string | undefined;
  reason?: string | undefined;
  name?: string | undefined;
  service?: string | undefined;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The default name: `freeze-` and the minute it was declared, e.g. `freeze-20261130T1801Z`. */
const defaultName = (now: Date) => `freeze-${now.toISOString().slice(0, 16).replace(/[-:]/g, '')}Z`;

/** Validates the flags against the config; every problem names its flag. */
export function parseFreeze(flags: FreezeFlags, config: PipelineConfig, now: Date, frozenBy: string): LedgerFreeze {
  const problems: string[] = [];
  const services = Object.keys(config.services);
  if (flags.service !== undefined && !config.services[flags.service]) problems.push(`--service: no service "${flags.service}" in the config; services: ${services.join(', ')}`);
  const scope = flags.service !== undefined && config.services[flags.service] ? [config.services[flags.service]!] : Object.values(config.services);
  const known = [...new Set(scope.flatMap((s) => s.environments.map((e) => e.name)))];

  const environments = (flags.environments ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  if (environments.length === 0) problems.push(`--environments is required: the environments to freeze, e.g. --environments prod or --environments prod,staging (environments: ${known.join(', ')})`);
  const none = flags.service ? `service "${flags.service}" has no environment` : 'no service has an environment';
  for (const e of environments) if (!known.includes(e)) problems.push(`--environments: ${none} "${e}"; environments: ${known.join(', ')}`);

  let until: string | undefined;
  if (!flags.until) problems.push('--until is required: when the freeze ends, ISO 8601 with a zone, e.g. --until 2026-12-02T09:00Z');
  else if (!ISO_WITH_ZONE.test(flags.until) || Number.isNaN(Date.parse(flags.until))) problems.push(`--until: "${flags.until}" is not an ISO 8601 time with a zone, e.g. 2026-12-02T09:00Z or 2026-12-02T10:00+01:00`);
  else if (Date.parse(flags.until) <= now.getTime()) problems.push(`--until: ${flags.until} is not in the future (now ${now.toISOString()})`);
  else until = new Date(Date.parse(flags.until)).toISOString();

  const reason = flags.reason?.trim() ?? '';
  if (!reason) problems.push('--reason is required: why, for the people whose releases it stops, e.g. --reason "INC-4211: payments degraded"');

  const name = flags.name ?? defaultName(now);
  if (!NAME.test(name)) problems.push(`--name: "${name}" is not a name: letters, digits, ".", "_" and "-", at most 64, e.g. --name inc-4211`);

  if (problems.length) throw new FreezeInputError(problems.join('\n'));
  return {
    name,
    environments: [...new Set(environments)],
    ...(flags.service !== undefined ? { service: flags.service } : {}),
    reason,
    from: now.toISOString(),
    until: until!,
    frozenBy,
    frozenAt: now.toISOString(),
  };
}

/** One line for a freeze, as `freeze`, `unfreeze` and `status` print it. */
export function describeFreeze(f: LedgerFreeze): string {
  const scope = `${f.service ? `${f.service} ` : ''}${f.environments.join(', ')}`;
  const ended = f.unfrozenAt ? `; unfrozen by ${f.unfrozenBy ?? 'unknown'} at ${f.unfrozenAt}` : '';
  return `freeze "${f.name}": ${scope} until ${f.until} — ${f.reason} (frozen by ${f.frozenBy} at ${f.frozenAt}${ended})`;
}

/** In force at `now`: begun, not past `until`, not unfrozen. */
export const inForce = (f: LedgerFreeze, now: Date) => f.unfrozenAt === undefined && Date.parse(f.from) <= now.getTime() && now.getTime() < Date.parse(f.until);

/** `tagflow freeze`: writes it; refused while a freeze of that name is in force. */
export async function freeze(ledger: Ledger, config: PipelineConfig, flags: FreezeFlags, now: Date, who: string): Promise<LedgerFreeze> {
  const f = parseFreeze(flags, config, now, who);
  const result = await ledger.createFreeze(f, now.toISOString());
  if (!result.created) throw new FreezeInputError(`--name: a freeze "${f.name}" is in force already (${describeFreeze(result.existing)}); unfreeze it first or pick another --name`);
  return f;
}

/** `tagflow unfreeze NAME`: ends it now, recording who. */
export async function unfreeze(ledger: Ledger, name: string | undefined, now: Date, who: string): Promise<LedgerFreeze> {
  if (!name) throw new FreezeInputError('NAME is required: tagflow unfreeze NAME (tagflow status lists the freezes in force)');
  const ended = await ledger.endFreeze(name, who, now.toISOString());
  if (ended) return ended;
  const active = (await ledger.freezes()).filter((f) => inForce(f, now)).map((f) => f.name);
  throw new FreezeInputError(`NAME: no freeze "${name}" is in force; in force: ${active.length ? active.join(', ') : 'none'}`);
}
