import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The ASL files: the one definition CDK deploys and the local runtime executes. */

export type MachineName = 'release' | 'rollback' | 'train';
export const MACHINE_NAMES: readonly MachineName[] = ['release', 'rollback', 'train'];
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const aslPath = (machine: MachineName) => join(root, 'state-machines', `${machine}.asl.json`);
export const readAsl = (machine: MachineName) => readFileSync(aslPath(machine), 'utf8');

/** `${Name}` placeholders in a definition, as CloudFormation's DefinitionSubstitutions sees them. */
export const placeholders = (text: string): string[] => [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!))].sort();

/** Applies definition substitutions; a placeholder left without a value is an error, as in AWS. */
export function substitute(text: string, values: Record<string, string>): string {
  const missing = placeholders(text).filter((p) => !(p in values));
  if (missing.length) throw new Error(`no substitution for ${missing.map((m) => '${' + m + '}').join(', ')}`);
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name: string) => values[name]!);
}

interface AslState {
  Type: string;
  Resource?: string;
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
  Branches?: { States: Record<string, AslState> }[];
}

/** Every Task state (nested ones too) with its resource. */
export function taskStates(definition: { States: Record<string, AslState> }): { name: string; resource: string }[] {
  const out: { name: string; resource: string }[] = [];
  const walk = (states: Record<string, AslState>) => {
    for (const [name, s] of Object.entries(states)) {
      if (s.Type === 'Task' && s.Resource) out.push({ name, resource: s.Resource });
      const nested = s.ItemProcessor ?? s.Iterator;
      if (nested) walk(nested.States);
      for (const b of s.Branches ?? []) walk(b.States);
    }
  };
  walk(definition.States);
  return out;
}

/** Top-level Wait states that wait until a time read from the input (`TimestampPath`), with that path. */
export function timestampWaits(definition: { States: Record<string, AslState & { TimestampPath?: string }> }): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, s] of Object.entries(definition.States)) if (s.Type === 'Wait' && s.TimestampPath) out.set(name, s.TimestampPath);
  return out;
}
