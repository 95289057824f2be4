import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, PROJECT_ROOT } from '../../infra/app.js';
import type { TagflowStack } from '../../infra/stack.js';
import { list, flat, type Json, type Statement } from '../support/template.js';

/**
 * The manifest signing key in the synthesised template (issue 17): only CI's policy may sign
 * with it; only CI and the two verifying steps may read its public half.
 */

const CONFIG = join(PROJECT_ROOT, 'test', 'infra', 'fixtures', 'lambda-targets.config.json');

let stack: TagflowStack;
let resources: Record<string, Json>;
let outputs: Record<string, Json>;
let keyId: string;
let verificationKeyId: string;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const fnOf = (step: string) => ofType('AWS::Lambda::Function').find(([, r]) => r.Properties.Description === `tagflow step ${step}`)!;
const roleOfStep = (step: string) => fnOf(step)[1].Properties.Role['Fn::GetAtt'][0] as string;

/** Every identity policy in the stack, named by who holds it: `role:<id>` or `managed:<id>`. */
function identityPolicies(): { holders: string[]; statements: Statement[] }[] {
  const inline = ofType('AWS::IAM::Policy').map(([, p]) => ({ holders: (p.Properties.Roles ?? []).map((r: Json) => `role:${r.Ref}`), statements: p.Properties.PolicyDocument.Statement as Statement[] }));
  const managed = ofType('AWS::IAM::ManagedPolicy').map(([id, p]) => ({ holders: [`managed:${id}`], statements: p.Properties.PolicyDocument.Statement as Statement[] }));
  const roles = ofType('AWS::IAM::Role').map(([id, r]) => ({ holders: [`role:${id}`], statements: ((r.Properties.Policies ?? []) as Json[]).flatMap((p) => p.PolicyDocument.Statement as Statement[]) }));
  return [...inline, ...managed, ...roles];
}

/** Whether a statement lets its holder call `action` on the signing key (wildcards in action or resource count). */
const allows = (s: Statement, action: string, key = keyId) =>
  s.Effect === 'Allow' &&
  list(s.Action).some((a) => a === action || a === '*' || a === 'kms:*' || (a.endsWith('*') && action.startsWith(a.slice(0, -1)))) &&
  list(s.Resource).some((r) => r === '*' || flat(r) === `<${key}.Arn>`);
const holdersOf = (action: string, key = keyId) => [...new Set(identityPolicies().filter((p) => p.statements.some((s) => allows(s, action, key))).flatMap((p) => p.holders))].sort();

beforeAll(() => {
  stack = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], config: CONFIG } }));
  const template = Template.fromStack(stack).toJSON();
  resources = template.Resources;
  outputs = template.Outputs;
  keyId = stack.getLogicalId(stack.signing.key.node.defaultChild as never);
  verificationKeyId = stack.getLogicalId(stack.verification.key.node.defaultChild as never);
});

describe('the manifest signing key', () => {
  it('is an asymmetric ECC_NIST_P256 sign/verify KMS key, kept on stack deletion, output as SigningKeyArn', () => {
    expect(resources[keyId]).toMatchObject({ Type: 'AWS::KMS::Key', Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }, DeletionPolicy: 'Retain' });
    expect(outputs.SigningKeyArn!.Value).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  it('its key policy names no principal but the account (IAM decides), so no service or other account can sign', () => {
    const statements = resources[keyId]!.Properties.KeyPolicy.Statement as Json[];
    for (const s of statements) expect(flat(s.Principal.AWS)).toBe('arn:<AWS::Partition>:iam::<AWS::AccountId>:root');
  });

  it('only the CI uploader policy may kms:Sign with it', () => {
    const ci = `managed:${stack.getLogicalId(stack.ciUploader.policy.node.defaultChild as never)}`;
    expect(holdersOf('kms:Sign')).toEqual([ci]);
    const [signing] = identityPolicies().find((p) => p.holders.includes(ci))!.statements.filter((s) => list(s.Action).some((a) => a.startsWith('kms:')));
    expect(list(signing!.Action).sort()).toEqual(['kms:GetPublicKey', 'kms:Sign']);
    expect(list(signing!.Resource).map(flat)).toEqual([`<${keyId}.Arn>`]);
  });

  it('kms:GetPublicKey: CI (to name the key) and the steps that verify, resolve-artifact, verify-provenance and promote; no one else, not the CLI', () => {
    const ci = `managed:${stack.getLogicalId(stack.ciUploader.policy.node.defaultChild as never)}`;
    expect(holdersOf('kms:GetPublicKey')).toEqual([ci, `role:${roleOfStep('resolve-artifact')}`, `role:${roleOfStep('verify-provenance')}`, `role:${roleOfStep('promote')}`].sort());
  });

  it('no one may decrypt, re-key or administer it through an identity policy in this stack', () => {
    for (const action of ['kms:Decrypt', 'kms:ScheduleKeyDeletion', 'kms:PutKeyPolicy', 'kms:CreateGrant']) expect(holdersOf(action), action).toEqual([]);
  });

  it('the verifying steps get its ARN as SIGNING_KEY_ARN; no other function does', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const step = /^tagflow step (.+)$/.exec(fn.Properties.Description ?? '')?.[1];
      const arn = fn.Properties.Environment?.Variables?.SIGNING_KEY_ARN;
      if (step === 'resolve-artifact' || step === 'verify-provenance' || step === 'promote') expect(arn, step).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      else expect(arn, step ?? fn.Properties.Description).toBeUndefined();
    }
  });
});

describe('the verification key (verification summaries)', () => {
  it('is another ECC_NIST_P256 sign/verify key, kept on stack deletion, output as VerificationKeyArn', () => {
    expect(verificationKeyId).not.toBe(keyId);
    expect(resources[verificationKeyId]).toMatchObject({ Type: 'AWS::KMS::Key', Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }, DeletionPolicy: 'Retain' });
    expect(outputs.VerificationKeyArn!.Value).toEqual({ 'Fn::GetAtt': [verificationKeyId, 'Arn'] });
  });

  it('only attest-environment may sign with it (and read its public half): not CI, which signs builds and must not vouch for them', () => {
    const step = `role:${roleOfStep('attest-environment')}`;
    expect(holdersOf('kms:Sign', verificationKeyId)).toEqual([step]);
    expect(holdersOf('kms:GetPublicKey', verificationKeyId)).toEqual([step]);
    // And attest-environment cannot sign builds.
    expect(holdersOf('kms:Sign')).not.toContain(step);
  });

  it('attest-environment gets its ARN as VERIFICATION_KEY_ARN and may write only vsa.dsse.json objects in the environments bucket', () => {
    const [, fn] = fnOf('attest-environment');
    expect(fn.Properties.Environment.Variables.VERIFICATION_KEY_ARN).toEqual({ 'Fn::GetAtt': [verificationKeyId, 'Arn'] });
    const puts = identityPolicies()
      .filter((p) => p.holders.includes(`role:${roleOfStep('attest-environment')}`))
      .flatMap((p) => p.statements)
      .filter((s) => list(s.Action).some((a) => a.startsWith('s3:')));
    expect(puts.flatMap((s) => list(s.Action))).toEqual(['s3:PutObject']);
    const envBucket = stack.getLogicalId(stack.storage.environments.node.defaultChild as never);
    expect(puts.flatMap((s) => list(s.Resource).map(flat)).sort()).toEqual(['dev', 'prod', 'qa', 'staging'].map((e) => `<${envBucket}.Arn>/${e}/*/vsa.dsse.json`));
    for (const [, f] of ofType('AWS::Lambda::Function')) if (f !== fn) expect(f.Properties.Environment?.Variables?.VERIFICATION_KEY_ARN, f.Properties.Description).toBeUndefined();
  });
});
