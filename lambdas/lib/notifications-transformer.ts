/**
 * Amazon EventBridge input transformers (a rule target's `InputTransformer`), evaluated
 * locally so that what `--notify` prints is what the topic receives. It follows EventBridge's
 * documentation ("Transforming target input", InputTransformer in the API reference):
 *  - `InputPathsMap` names at most 100 variables, each a JSONPath in dot notation (dashes,
 *    underscores, array indices) into the event; a path that does not resolve yields nothing
 *    (an empty string inside a quoted template string);
 *  - `InputTemplate` is JSON (an object, or a quoted string) with `<name>` placeholders; the
 *    predefined `aws.events.*` variables need no path and cannot be redefined;
 *  - inside a quoted string a value is pasted as its text (objects and arrays as minified
 *    JSON); in a value position a string is quoted. EventBridge does NOT escape what it
 *    pastes, so a value holding `"`, `\` or a line break inside a quoted string makes the
 *    output invalid JSON: evaluate() refuses such an output, naming the variable.
 */

export interface InputTransformer {
  /** Variable name → JSONPath into the event. */
  InputPathsMap: Record<string, string>;
  InputTemplate: string;
}

export const MAX_INPUT_PATHS = 100;
export const MAX_TEMPLATE_LENGTH = 8192;
const KEY = /^[A-Za-z0-9_-]+$/;
const PATH = /^\$(?:\.[A-Za-z0-9_/-]+|\[\d+\])*$/;
const PREDEFINED = ['aws.events.rule-arn', 'aws.events.rule-name', 'aws.events.event', 'aws.events.event.json', 'aws.events.event.ingestion-time'] as const;

/** Why an output could not be delivered as JSON, naming the variables that broke it. */
export class TransformerOutputInvalid extends Error {
  override name = 'TransformerOutputInvalid';
  constructor(
    message: string,
    /** The output EventBridge would produce, pasted verbatim. */
    readonly output: string,
  ) {
    super(message);
  }
}

/** Problems that would make EventBridge refuse the transformer (or misbehave); empty when valid. */
export function validateTransformer(t: InputTransformer): string[] {
  const problems: string[] = [];
  const keys = Object.keys(t.InputPathsMap);
  if (keys.length > MAX_INPUT_PATHS) problems.push(`InputPathsMap: ${keys.length} variables, EventBridge allows at most ${MAX_INPUT_PATHS}`);
  for (const key of keys) {
    if (!KEY.test(key)) problems.push(`InputPathsMap.${key}: a variable name may hold only letters, digits, "_" and "-"`);
    if (/^aws\./i.test(key)) problems.push(`InputPathsMap.${key}: names starting with "aws." are reserved`);
    const path = t.InputPathsMap[key]!;
    if (!PATH.test(path)) problems.push(`InputPathsMap.${key}: ${JSON.stringify(path)} is not a dot-notation JSONPath such as $.detail.service or $.resources[0]`);
  }
  if (t.InputTemplate.length === 0 || t.InputTemplate.length > MAX_TEMPLATE_LENGTH) problems.push(`InputTemplate: ${t.InputTemplate.length} characters, EventBridge takes 1 to ${MAX_TEMPLATE_LENGTH}`);
  for (const { name } of placeholders(t.InputTemplate)) {
    if (!(name in t.InputPathsMap) && !(PREDEFINED as readonly string[]).includes(name)) problems.push(`InputTemplate: <${name}> is not in InputPathsMap (nor a predefined aws.events variable)`);
  }
  // With every variable a plain word, the template itself must be JSON.
  try {
    JSON.parse(substitute(t.InputTemplate, () => 'x', () => '"x"'));
  } catch (err) {
    problems.push(`InputTemplate: is not JSON once its placeholders are filled: ${(err as Error).message}`);
  }
  return problems;
}

/** The value at a dot-notation path, or undefined when any step is missing. */
export function resolvePath(path: string, event: unknown): unknown {
  if (!PATH.test(path)) throw new Error(`unsupported input path ${JSON.stringify(path)}: use dot notation such as $.detail.service or $.resources[0]`);
  const steps = path.slice(1).match(/\.[^.[]+|\[\d+\]/g) ?? [];
  let current: unknown = event;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    current = step.startsWith('[') ? (Array.isArray(current) ? current[Number(step.slice(1, -1))] : undefined) : (current as Record<string, unknown>)[step.slice(1)];
  }
  return current;
}

interface Placeholder {
  name: string;
  start: number;
  end: number;
  /** Whether it sits inside a JSON string of the template. */
  quoted: boolean;
}

/** The `<name>` placeholders of a template, each knowing whether it sits inside a JSON string. */
function placeholders(template: string): Placeholder[] {
  const found: Placeholder[] = [];
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (inString && c === '\\') {
      i++;
      continue;
    }
    if (c === '"') inString = !inString;
    else if (c === '<') {
      const m = /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i));
      if (m) {
        found.push({ name: m[1]!, start: i, end: i + m[0].length, quoted: inString });
        i += m[0].length - 1;
      }
    }
  }
  return found;
}

function substitute(template: string, inString: (name: string) => string, inValue: (name: string) => string): string {
  let out = '';
  let at = 0;
  for (const p of placeholders(template)) {
    out += template.slice(at, p.start) + (p.quoted ? inString(p.name) : inValue(p.name));
    at = p.end;
  }
  return out + template.slice(at);
}

export interface RuleContext {
  ruleName: string;
  ruleArn: string;
  /** When EventBridge received the event. @default the event's time */
  ingestionTime?: string;
}

const asText = (v: unknown): string => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * What EventBridge hands the target: the output text and, parsed, its JSON value (a string
 * for a quoted-string template). Throws TransformerOutputInvalid when a pasted value breaks the JSON.
 */
export function evaluate(t: InputTransformer, event: Record<string, unknown>, rule: RuleContext): { output: string; value: unknown } {
  const values = new Map<string, unknown>(Object.entries(t.InputPathsMap).map(([name, path]) => [name, resolvePath(path, event)]));
  const { detail: _detail, ...envelope } = event;
  const predefined: Record<string, unknown> = {
    'aws.events.rule-arn': rule.ruleArn,
    'aws.events.rule-name': rule.ruleName,
    'aws.events.event': envelope,
    'aws.events.event.json': event,
    'aws.events.event.ingestion-time': rule.ingestionTime ?? event.time,
  };
  const lookup = (name: string): unknown => (values.has(name) ? values.get(name) : predefined[name]);
  const known = (name: string) => values.has(name) || name in predefined;
  const output = substitute(
    t.InputTemplate,
    (name) => (known(name) ? asText(lookup(name)) : `<${name}>`),
    (name) => (known(name) ? (JSON.stringify(lookup(name)) ?? 'null') : `<${name}>`),
  );
  try {
    return { output, value: JSON.parse(output) };
  } catch (err) {
    const breaking = [...values.entries()].filter(([, v]) => (typeof v === 'string' ? /["\\\u0000-\u001f]/.test(v) : typeof v === 'object' && v !== null)).map(([name]) => name);
    const why = breaking.length
      ? `the value of ${breaking.map((n) => `<${n}>`).join(', ')} holds a quote, backslash or line break (or is an object or array), which EventBridge pastes unescaped`
      : (err as Error).message;
    throw new TransformerOutputInvalid(`the transformed input is not valid JSON: ${why}`, output);
  }
}
