import { readFileSync } from 'node:fs';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';

/**
 * `events:PutEvents` on the pipeline bus, only for the events the grantee actually puts.
 *
 * EventBridge evaluates `events:source` and `events:detail-type` against the entries of a
 * PutEvents call, one value per entry; `ForAllValues:StringEquals` makes every entry's value
 * one of the listed ones (AWS's own example policy for PutEvents uses it for `events:source`),
 * and the `Null` check refuses a request that carries no such key at all, which
 * `ForAllValues` alone would let through (an empty set satisfies it).
 */
export interface PutEventsScope {
  /** The `Source` of every entry. */
  sources: readonly string[];
  /** The `DetailType` of every entry. */
  detailTypes: readonly string[];
}

export function putEventsStatement(bus: IEventBus, scope: PutEventsScope): PolicyStatement {
  if (!scope.sources.length || !scope.detailTypes.length) throw new Error('a PutEvents grant needs at least one source and one detail-type');
  const sorted = (xs: readonly string[]) => [...new Set(xs)].sort();
  return new PolicyStatement({
    actions: ['events:PutEvents'],
    resources: [bus.eventBusArn],
    conditions: {
      'ForAllValues:StringEquals': { 'events:source': sorted(scope.sources), 'events:detail-type': sorted(scope.detailTypes) },
      Null: { 'events:source': 'false', 'events:detail-type': 'false' },
    },
  });
}

export function grantPutEvents(grantee: IGrantable, bus: IEventBus, scope: PutEventsScope): void {
  grantee.grantPrincipal.addToPrincipalPolicy(putEventsStatement(bus, scope));
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The sources and detail-types of an ASL file's `events:putEvents` Tasks (in Parallel branches
 * and Map processors too). A Task whose Source or DetailType is computed (`DetailType.$`) or
 * missing fails here: the grant could not name it, so the put would be refused at run time.
 */
export function aslPutEvents(text: string, source: string): PutEventsScope {
  const machine: unknown = JSON.parse(text);
  const sources = new Set<string>();
  const detailTypes = new Set<string>();
  const visit = (m: unknown) => {
    if (!isObject(m) || !isObject(m.States)) return;
    for (const [name, state] of Object.entries(m.States)) {
      if (!isObject(state)) continue;
      for (const branch of Array.isArray(state.Branches) ? state.Branches : []) visit(branch);
      for (const inner of [state.Iterator, state.ItemProcessor]) visit(inner);
      if (state.Type !== 'Task' || typeof state.Resource !== 'string' || !/^arn:aws:states:::events:putEvents(\.waitForTaskToken)?$/.test(state.Resource)) continue;
      const params = isObject(state.Parameters) ? state.Parameters : isObject(state.Arguments) ? state.Arguments : undefined;
      const entries = params?.Entries;
      if (!Array.isArray(entries) || entries.length === 0) throw new Error(`${source}: state "${name}" puts events without a literal Entries list; name each entry's Source and DetailType`);
      for (const entry of entries) {
        if (!isObject(entry) || typeof entry.Source !== 'string' || typeof entry.DetailType !== 'string') {
          throw new Error(`${source}: state "${name}" puts an event whose Source or DetailType is not a literal string; the IAM grant names each one`);
        }
        sources.add(entry.Source);
        detailTypes.add(entry.DetailType);
      }
    }
  };
  visit(machine);
  return { sources: [...sources].sort(), detailTypes: [...detailTypes].sort() };
}

export const readAslPutEvents = (file: string): PutEventsScope => aslPutEvents(readFileSync(file, 'utf8'), file);
