/**
 * Who may approve, named precisely, and whether a caller AWS verified is one of them.
 *
 * `policy.approvers` lists principals, never bare names, for AWS:
 *   arn:aws:iam::111122223333:user/alice                       an IAM user (a path is part of it: user/ops/alice)
 *   arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Approvers_0123456789abcdef/alice@acme.io
 *                                                               a session of an IAM Identity Center role, whose
 *                                                               session name is the signed-in user and cannot be chosen
 * A session of any other role is refused: whoever may assume a role picks the session name
 * (`--role-session-name bob`), so the name proves nothing. Federated users
 * (`sts:GetFederationToken --name bob`) choose their name too. The caller must also be in the
 * stack's account. A bare name ("alice") identifies a person only in the local runtime, where
 * the person at the keyboard is the only one.
 *
 * The comparison is exact on the whole ARN (account, user path and name, or role and session),
 * so `user/alice` and `assumed-role/AnyRole/alice` are two different principals and neither is
 * `carol` from another account.
 */

export type ApproverPrincipal =
  | { kind: 'iam-user'; id: string; account: string; name: string }
  | { kind: 'sso-session'; id: string; account: string; role: string; name: string }
  | { kind: 'local-name'; id: string; name: string };

/** IAM Identity Center's permission-set roles: the session name is the user's sign-in name. */
export const SSO_ROLE_PREFIX = 'AWSReservedSSO_';

const NAME = /^[\w+=,.@-]{1,64}$/;
const ARN = /^arn:(aws|aws-cn|aws-us-gov):(iam|sts)::(\d{12}):(.+)$/;

/** What an approver is in AWS. */
export const AWS_APPROVER_FORMAT = 'an IAM user ARN (arn:aws:iam::ACCOUNT:user/NAME) or an IAM Identity Center session ARN (arn:aws:sts::ACCOUNT:assumed-role/AWSReservedSSO_…/USER)';
export const APPROVER_FORMAT = `${AWS_APPROVER_FORMAT}; a bare name such as "alice" works in the local runtime only`;

/** Parses a principal ARN (a config entry or a caller STS verified). Throws with why it cannot approve. */
export function parsePrincipal(value: string): ApproverPrincipal {
  if (!value.startsWith('arn:')) {
    if (!NAME.test(value)) throw new Error(`"${value}" is neither a principal ARN nor a local name; expected ${APPROVER_FORMAT}`);
    return { kind: 'local-name', id: value, name: value };
  }
  const match = ARN.exec(value);
  if (!match) throw new Error(`"${value}" is not an IAM or STS ARN; expected ${APPROVER_FORMAT}`);
  const [, , service, account, resource] = match as unknown as [string, string, string, string, string];
  const parts = resource.split('/');
  if (service === 'iam' && parts[0] === 'user' && parts.length >= 2 && parts.every(Boolean)) {
    return { kind: 'iam-user', id: value, account, name: parts.at(-1)! };
  }
  if (service === 'sts' && parts[0] === 'assumed-role' && parts.length === 3 && parts[1] && parts[2]) {
    const [, role, session] = parts as [string, string, string];
    if (!role.startsWith(SSO_ROLE_PREFIX)) {
      throw new Error(
        `${value} is a session of the role ${role}, whose session name ("${session}") is chosen by whoever assumes the role (sts:AssumeRole --role-session-name), so it proves nothing about who they are; approve as an IAM user or through an IAM Identity Center role (${SSO_ROLE_PREFIX}…)`,
      );
    }
    return { kind: 'sso-session', id: value, account, role, name: session };
  }
  if (service === 'sts' && parts[0] === 'federated-user') {
    throw new Error(`${value} is a federated user (sts:GetFederationToken), whose name is chosen by the caller; approve as an IAM user or through an IAM Identity Center role`);
  }
  if (service === 'iam' && resource === 'root') throw new Error(`${value} is an account root, which names no person; approve as an IAM user or through an IAM Identity Center role`);
  if (service === 'iam' && parts[0] === 'role') {
    throw new Error(`${value} is a role, which many people may assume; name the session instead: arn:aws:sts::${account}:assumed-role/${parts.at(-1)}/USER (IAM Identity Center roles only)`);
  }
  throw new Error(`${value} names no person; expected ${APPROVER_FORMAT}`);
}

/** The short name people read in messages: alice, alice@acme.io. */
export const displayName = (id: string): string => {
  try {
    return parsePrincipal(id).name;
  } catch {
    return id;
  }
};

export type ApproverMatch = { ok: true; approver: ApproverPrincipal } | { ok: false; reason: string };

/**
 * Whether a caller whose ARN AWS verified is one of `allowed` (the config's entries), in
 * `account` (the stack's). Only an exact principal matches; a bare config name never matches
 * a verified ARN.
 */
export function matchApprover(callerArn: string, allowed: readonly string[], account: string | undefined): ApproverMatch {
  let caller: ApproverPrincipal;
  try {
    caller = parsePrincipal(callerArn);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (caller.kind === 'local-name') return { ok: false, reason: `"${callerArn}" is no AWS principal` };
  if (account !== undefined && caller.account !== account) {
    return { ok: false, reason: `${callerArn} belongs to account ${caller.account}; only principals of this pipeline's account ${account} may approve` };
  }
  if (!allowed.includes(caller.id)) {
    return { ok: false, reason: `${callerArn} is not in policy.approvers nor this environment's approval.from (${allowed.map(displayName).join(', ') || 'nobody'}); entries must be the exact principal: ${APPROVER_FORMAT}` };
  }
  return { ok: true, approver: caller };
}

/**
 * Who caused a release, where the pipeline knows: the GitHub user who pushed the tag, or the
 * AWS principal CodeCommit says created it. They may not approve their own emergency.
 */
export interface ReleaseInitiator {
  github?: string;
  arn?: string;
}

/** Whether `approverId` is the person who caused the release (`githubLogins` maps approvers to GitHub logins). */
export function isInitiator(approverId: string, initiator: ReleaseInitiator | undefined, githubLogins: Readonly<Record<string, string>>): boolean {
  if (!initiator) return false;
  if (initiator.arn && initiator.arn === approverId) return true;
  const login = githubLogins[approverId];
  return Boolean(initiator.github && login && login.toLowerCase() === initiator.github.toLowerCase());
}
