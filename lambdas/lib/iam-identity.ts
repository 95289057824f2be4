/**
 * Who an IAM caller is, as a name `policy.approvers` can list. A function URL with AWS_IAM
 * auth hands the handler the signer's ARN (`requestContext.authorizer.iam.userArn`):
 *   arn:aws:iam::111122223333:user/ops/alice                    → alice (the user name)
 *   arn:aws:sts::111122223333:assumed-role/Admin/alice@acme.io  → alice@acme.io (the role session name;
 *                                                                  IAM Identity Center sets it to the user)
 *   arn:aws:sts::111122223333:federated-user/alice              → alice
 * The account root and anything else has no personal name: undefined (refused).
 */
export function approverFromArn(arn: string): string | undefined {
  const match = /^arn:aws[\w-]*:(iam|sts)::\d{12}:(.+)$/.exec(arn);
  if (!match) return undefined;
  const [service, resource] = [match[1]!, match[2]!];
  const parts = resource.split('/');
  if (service === 'iam' && parts[0] === 'user' && parts.length >= 2) return parts.at(-1) || undefined;
  if (service === 'sts' && parts[0] === 'assumed-role' && parts.length === 3) return parts[2] || undefined;
  if (service === 'sts' && parts[0] === 'federated-user' && parts.length === 2) return parts[1] || undefined;
  return undefined;
}
