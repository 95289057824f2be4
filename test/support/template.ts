/** Reading a synthesised CloudFormation template in the infra tests. */

export type Json = Record<string, any>;
export type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Json };

export const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** A CloudFormation value as one string: `arn:<AWS::Partition>:lambda:…`, `<LedgerTable1234.Arn>/ci/*`, `/aws/vendedlogs/states/A-Release-<select(4, …<AWS::StackId>…)>`. */
export function flat(node: unknown): string {
  if (typeof node === 'string') return node;
  const n = node as Json;
  if (n['Fn::Join']) return (n['Fn::Join'][1] as unknown[]).map(flat).join(n['Fn::Join'][0]);
  if (n['Fn::Select']) return `<select(${n['Fn::Select'][0]}, ${flat(n['Fn::Select'][1])})>`;
  if (n['Fn::Split']) return `<split(${n['Fn::Split'][0]}, ${flat(n['Fn::Split'][1])})>`;
  if (n['Fn::GetAtt']) return `<${n['Fn::GetAtt'][0]}.${n['Fn::GetAtt'][1]}>`;
  if (n.Ref) return `<${n.Ref}>`;
  return JSON.stringify(node);
}
