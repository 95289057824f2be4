/**
 * Amazon EventBridge event patterns, evaluated locally. The local runtime must start exactly
 * the machines the deployed rules would start, and no npm matcher gets EventBridge right, so
 * this follows EventBridge's documentation and its open-source engine (aws/event-ruler):
 *  - fields are ANDed, the values listed for a field are ORed;
 *  - a pattern array names leaf conditions; an event array matches when ANY element does, and
 *    fields under one object of an event array must all hold in the SAME element;
 *  - values are typed: "5" never matches 5, "" never matches null;
 *  - prefix/suffix/equals-ignore-case/wildcard/cidr only match strings, numeric only numbers;
 *  - exists works on leaves: a missing field, an object or an empty array "does not exist";
 *  - anything-but needs the field present and matches any other value (of any type);
 *  - $or (an array of 2+ sub-patterns) is ORed, and ANDed with its sibling fields.
 */

export type Scalar = string | number | boolean | null;
type IgnoreCase = { 'equals-ignore-case': string };
export type AnythingBut =
  | string
  | number
  | readonly string[]
  | readonly number[]
  | { prefix: string }
  | { suffix: string }
  | { 'equals-ignore-case': string | readonly string[] }
  | { wildcard: string | readonly string[] };
export type Matcher =
  | { prefix: string | IgnoreCase }
  | { suffix: string | IgnoreCase }
  | IgnoreCase
  | { 'anything-but': AnythingBut }
  | { numeric: readonly (string | number)[] }
  | { exists: boolean }
  | { wildcard: string }
  | { cidr: string };
export type Condition = Scalar | Matcher;
export interface EventPattern {
  [field: string]: readonly Condition[] | EventPattern | readonly EventPattern[];
}

/** The outcome of evaluating a pattern: leaf conditions that held, out of how many, and the first that did not. */
export interface Evaluation {
  matches: boolean;
  matched: number;
  total: number;
  reason?: string;
}

const OPERATORS = ['prefix', 'suffix', 'equals-ignore-case', 'anything-but', 'numeric', 'exists', 'wildcard', 'cidr'] as const;
const NUMERIC_OPS = ['=', '<', '<=', '>', '>='];

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const fold = (s: string) => s.toLowerCase();
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

const isBranch = (b: unknown): b is Obj => isObject(b) && !Object.keys(b).some((k) => (OPERATORS as readonly string[]).includes(k));
/** Ruler's rule for `$or`: an array of two or more objects that are not leaf operators; otherwise it is a plain field. */
function isOr(key: string, v: unknown): v is Obj[] {
  return key === '$or' && Array.isArray(v) && v.length >= 2 && v.every(isBranch);
}

// ---------------------------------------------------------------------------------- matching

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return evaluatePattern(pattern, event).matches;
}

/** Why the event does not match, naming the field and what it expected; undefined when it matches. */
export function explainMismatch(pattern: EventPattern, event: unknown): string | undefined {
  const e = evaluatePattern(pattern, event);
  return e.matches ? undefined : e.reason;
}

export function evaluatePattern(pattern: EventPattern, event: unknown): Evaluation {
  return evalObject(pattern as Obj, event, '');
}

function better(a: Evaluation, b: Evaluation): Evaluation {
  if (a.matches !== b.matches) return a.matches ? a : b;
  return b.matched > a.matched ? b : a;
}

function evalObject(pattern: Obj, value: unknown, path: string): Evaluation {
  if (Array.isArray(value)) {
    // Array consistency: the whole sub-pattern must hold within one element.
    const elements = value.flat(Infinity).map((el, i) => [el, i] as const).filter(([el]) => isObject(el));
    if (elements.length === 0) return evalFields(pattern, undefined, path);
    return elements.map(([el, i]) => evalFields(pattern, el, `${path}[${i}]`)).reduce(better);
  }
  return evalFields(pattern, value, path);
}

function evalFields(pattern: Obj, value: unknown, path: string): Evaluation {
  const parts: Evaluation[] = [];
  for (const [key, sub] of Object.entries(pattern)) {
    if (isOr(key, sub)) parts.push(sub.map((branch) => evalFields(branch, value, path)).reduce(better));
    else {
      const child = isObject(value) ? value[key] : undefined;
      const childPath = join(path, key);
      parts.push(Array.isArray(sub) ? evalLeaf(sub, child, childPath) : evalObject(sub as Obj, child, childPath));
    }
  }
  const failed = parts.find((p) => !p.matches);
  return {
    matches: !failed,
    matched: parts.reduce((n, p) => n + p.matched, 0),
    total: parts.reduce((n, p) => n + p.total, 0),
    ...(failed?.reason !== undefined ? { reason: failed.reason } : {}),
  };
}

/** The leaf values of an event field: none when it is missing or an object; an array's scalar elements. */
function leafValues(raw: unknown): Scalar[] {
  if (Array.isArray(raw)) return raw.flat(Infinity).filter(isScalar);
  return isScalar(raw) ? [raw] : [];
}

function evalLeaf(conditions: readonly unknown[], raw: unknown, path: string): Evaluation {
  const values = leafValues(raw);
  const ok = conditions.some((c) => {
    if (isObject(c) && 'exists' in c) return c.exists === (values.length > 0);
    return values.some((v) => matchValue(c, v));
  });
  if (ok) return { matches: true, matched: 1, total: 1 };
  const actual = raw === undefined ? 'missing' : isObject(raw) ? 'an object' : JSON.stringify(raw);
  const expected = conditions.every(isScalar) ? `one of ${JSON.stringify(conditions)}` : `to match ${JSON.stringify(conditions)}`;
  return { matches: false, matched: 0, total: 1, reason: `${path} is ${actual}, expected ${expected}` };
}

function matchValue(condition: unknown, v: Scalar): boolean {
  if (!isObject(condition)) return condition === v;
  const [op, arg] = Object.entries(condition)[0] ?? [];
  const s = typeof v === 'string' ? v : undefined;
  switch (op) {
    case 'prefix':
      return s !== undefined && (isObject(arg) ? fold(s).startsWith(fold(String(arg['equals-ignore-case']))) : s.startsWith(String(arg)));
    case 'suffix':
      return s !== undefined && (isObject(arg) ? fold(s).endsWith(fold(String(arg['equals-ignore-case']))) : s.endsWith(String(arg)));
    case 'equals-ignore-case':
      return s !== undefined && fold(s) === fold(String(arg));
    case 'wildcard':
      return s !== undefined && wildcardRegExp(String(arg)).test(s);
    case 'numeric':
      return typeof v === 'number' && numericHolds(arg as unknown[], v);
    case 'cidr':
      return s !== undefined && inCidr(String(arg), s);
    case 'anything-but':
      return !excludedBy(arg, v);
    default:
      return false;
  }
}

/** Whether an `anything-but` operand names this value (strings only for its prefix/suffix/case/wildcard forms). */
function excludedBy(arg: unknown, v: Scalar): boolean {
  if (Array.isArray(arg)) return arg.includes(v);
  if (!isObject(arg)) return arg === v;
  if (typeof v !== 'string') return false;
  const list = (x: unknown) => (Array.isArray(x) ? x : [x]).map(String);
  if ('prefix' in arg) return v.startsWith(String(arg.prefix));
  if ('suffix' in arg) return v.endsWith(String(arg.suffix));
  if ('equals-ignore-case' in arg) return list(arg['equals-ignore-case']).some((x) => fold(x) === fold(v));
  if ('wildcard' in arg) return list(arg.wildcard).some((x) => wildcardRegExp(x).test(v));
  return false;
}

function numericHolds(spec: readonly unknown[], v: number): boolean {
  for (let i = 0; i + 1 < spec.length; i += 2) {
    const n = spec[i + 1] as number;
    const ok = { '=': v === n, '<': v < n, '<=': v <= n, '>': v > n, '>=': v >= n }[spec[i] as string];
    if (!ok) return false;
  }
  return true;
}

const wildcardCache = new Map<string, RegExp>();
/** `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash. */
function wildcardRegExp(pattern: string): RegExp {
  let re = wildcardCache.get(pattern);
  if (re) return re;
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) src += escapeRe(pattern[++i]!);
    else src += c === '*' ? '[\\s\\S]*' : escapeRe(c);
  }
  re = new RegExp(`^${src}$`);
  wildcardCache.set(pattern, re);
  return re;
}
const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

// ---------------------------------------------------------------------------------- CIDR

/** An IPv4 or IPv6 address as a number and its width in bits, or undefined if it is not one. */
function parseIp(text: string): { bits: 32 | 128; value: bigint } | undefined {
  const v4 = (t: string) => {
    const parts = t.split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
    return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
  };
  if (!text.includes(':')) {
    const value = v4(text);
    return value === undefined ? undefined : { bits: 32, value };
  }
  let head = text;
  let tail4: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail4 = v4(text.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`; // the embedded IPv4 fills the last two groups
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')));
  const missing = 8 - groups.reduce((n, g) => n + g.length, 0);
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = halves.length === 1 ? groups[0]! : [...groups[0]!, ...Array<string>(missing).fill('0'), ...groups[1]!];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  let value = all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (tail4 !== undefined) value = (value & ~0xffffffffn) | tail4;
  return { bits: 128, value };
}

function parseCidr(cidr: string): { bits: 32 | 128; value: bigint; prefix: number } | undefined {
  const [ip, len, extra] = cidr.split('/');
  if (ip === undefined || len === undefined || extra !== undefined || !/^\d{1,3}$/.test(len)) return undefined;
  const addr = parseIp(ip);
  const prefix = Number(len);
  return addr && prefix <= addr.bits ? { ...addr, prefix } : undefined;
}

function inCidr(cidr: string, ip: string): boolean {
  const net = parseCidr(cidr);
  const addr = parseIp(ip);
  if (!net || !addr || net.bits !== addr.bits) return false;
  const shift = BigInt(net.bits - net.prefix);
  return addr.value >> shift === net.value >> shift;
}

// ---------------------------------------------------------------------------------- validation

/** Problems that would make EventBridge refuse the pattern (or make it match everything); empty when valid. */
export function validatePattern(pattern: unknown): string[] {
  if (!isObject(pattern)) return ['(pattern): must be a JSON object of fields'];
  if (Object.keys(pattern).length === 0) return ['(pattern): is empty, so it would match every event'];
  const problems: string[] = [];
  validateFields(pattern, '', problems);
  return problems;
}

function validateFields(pattern: Obj, path: string, problems: string[]): void {
  for (const [key, sub] of Object.entries(pattern)) {
    const at = join(path, key);
    if (key === '$or' && Array.isArray(sub) && sub.length < 2 && sub.every(isBranch)) {
      problems.push(`${at}: needs at least two alternative sub-patterns (objects of fields)`);
    } else if (isOr(key, sub)) {
      sub.forEach((branch, i) => {
        if (Object.keys(branch).length === 0) problems.push(`${at}[${i}]: is empty`);
        validateFields(branch, path, problems);
      });
    } else if (Array.isArray(sub)) {
      if (sub.length === 0) problems.push(`${at}: an empty list matches nothing; list at least one value`);
      sub.forEach((c, i) => validateCondition(c, `${at}[${i}]`, problems));
    } else if (isObject(sub)) {
      if (Object.keys(sub).length === 0) problems.push(`${at}: is an empty object`);
      validateFields(sub, at, problems);
    } else {
      problems.push(`${at}: must be a list of values (e.g. [${JSON.stringify(sub)}]) or an object of fields, got ${JSON.stringify(sub)}`);
    }
  }
}

const str = (v: unknown) => typeof v === 'string';
const strOrList = (v: unknown) => str(v) || (Array.isArray(v) && v.length > 0 && v.every(str));

function validateCondition(c: unknown, at: string, problems: string[]): void {
  if (isScalar(c)) {
    if (typeof c === 'number' && !Number.isFinite(c)) problems.push(`${at}: ${c} is not a JSON number`);
    return;
  }
  if (!isObject(c)) return void problems.push(`${at}: must be a string, number, boolean, null or an operator object, got a nested list`);
  const keys = Object.keys(c);
  if (keys.length !== 1) return void problems.push(`${at}: an operator object has exactly one key, got ${JSON.stringify(keys)}`);
  const op = keys[0]!;
  const arg = c[op];
  const bad = (why: string) => problems.push(`${at}: ${op} ${why}`);
  switch (op) {
    case 'prefix':
    case 'suffix':
      if (!str(arg) && !(isObject(arg) && Object.keys(arg).length === 1 && str(arg['equals-ignore-case']))) bad('takes a string or {"equals-ignore-case": string}');
      break;
    case 'equals-ignore-case':
      if (!str(arg)) bad('takes a string');
      break;
    case 'wildcard':
      if (!str(arg)) bad('takes a string');
      else wildcardProblem(arg as string, (why) => bad(why));
      break;
    case 'exists':
      if (typeof arg !== 'boolean') bad('takes true or false');
      break;
    case 'cidr':
      if (!str(arg) || !parseCidr(arg as string)) bad(`takes an IPv4 or IPv6 block such as "10.0.0.0/24", got ${JSON.stringify(arg)}`);
      break;
    case 'numeric':
      numericProblem(arg, (why) => bad(why));
      break;
    case 'anything-but':
      anythingButProblem(arg, (why) => bad(why));
      break;
    default:
      problems.push(`${at}: unknown operator "${op}" (known: ${OPERATORS.join(', ')})`);
  }
}

function wildcardProblem(p: string, bad: (why: string) => void): void {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\') {
      if (p[i + 1] !== '*' && p[i + 1] !== '\\') return bad('may only escape "*" or "\\" with a backslash');
      i++;
    } else if (p[i] === '*' && p[i + 1] === '*') return bad('may not contain consecutive "*"');
  }
}

function numericProblem(arg: unknown, bad: (why: string) => void): void {
  const shape = 'takes [op, number] or [">"|">=", low, "<"|"<=", high], with op one of = < <= > >=';
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) return bad(shape);
  for (let i = 0; i < arg.length; i += 2) {
    if (!NUMERIC_OPS.includes(arg[i])) return bad(`has unknown operator ${JSON.stringify(arg[i])}; ${shape}`);
    if (typeof arg[i + 1] !== 'number' || !Number.isFinite(arg[i + 1])) return bad(`operand ${JSON.stringify(arg[i + 1])} must be a number (not a string)`);
  }
  if (arg.length === 4) {
    if (!['>', '>='].includes(arg[0]) || !['<', '<='].includes(arg[2])) return bad(`range must give its lower bound first; ${shape}`);
    if (arg[1] >= arg[3]) return bad(`range is empty: ${arg[1]} is not below ${arg[3]}`);
  }
}

function anythingButProblem(arg: unknown, bad: (why: string) => void): void {
  if (str(arg) || (typeof arg === 'number' && Number.isFinite(arg))) return;
  if (Array.isArray(arg)) {
    if (arg.length === 0 || !(arg.every(str) || arg.every((x) => typeof x === 'number' && Number.isFinite(x)))) bad('list must be non-empty and all strings or all numbers');
    return;
  }
  if (!isObject(arg) || Object.keys(arg).length !== 1) return bad('takes a string, a number, a list of either, or one of {prefix}, {suffix}, {equals-ignore-case}, {wildcard}');
  const [inner, v] = Object.entries(arg)[0]!;
  if (inner === 'prefix' || inner === 'suffix') {
    if (!str(v)) bad(`${inner} takes a string`);
  } else if (inner === 'equals-ignore-case' || inner === 'wildcard') {
    if (!strOrList(v)) bad(`${inner} takes a string or a list of strings`);
    else if (inner === 'wildcard') (Array.isArray(v) ? v : [v]).forEach((w: string) => wildcardProblem(w, bad));
  } else bad(`does not support "${inner}" (use prefix, suffix, equals-ignore-case or wildcard)`);
}
