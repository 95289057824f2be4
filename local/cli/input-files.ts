import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { CliInputError } from './cli-errors.js';

/**
 * The JSON files the CLI reads (`--input`, `--file`): a file that cannot be read or parsed is
 * one line naming it (exit 2), and a UTF-8 byte order mark, as editors on Windows write it, is
 * accepted.
 */
export function readJsonFile(path: string, what: string): unknown {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) throw new CliInputError(`${what} file ${path} does not exist`);
  if (stat.isDirectory()) throw new CliInputError(`${what} file ${path} is a folder; pass a JSON file`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliInputError(`cannot read ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseJsonText(text, `${what} file ${path}`);
}

/** JSON.parse with a BOM allowed and a one-line error naming where the text came from. */
export function parseJsonText(text: string, where: string): unknown {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') throw new CliInputError(`${where} is empty; expected JSON`);
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new CliInputError(`${where} is not valid JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** What EventBridge adds to an entry it accepts. */
export interface EventDefaults {
  now: Date;
  account: string;
  region: string;
  /** @default randomUUID */
  id?: () => string;
}

/** An event as EventBridge delivers it to a rule's target. */
// A type, not an interface: it passes where a Record<string, unknown> is taken (the backends' sendEvent).
export type BusEvent = {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
};

export interface EventsFromFile {
  events: BusEvent[];
  /** What the file asked that the local bus does differently (another bus named). */
  notes: string[];
}

/** put-events takes at most this many entries a call. */
const MAX_ENTRIES = 10;
const ENTRY_KEYS = ['Source', 'DetailType', 'Detail', 'EventBusName', 'Resources', 'Time', 'TraceHeader'];
const EXAMPLE = '{"Source":"tagflow","DetailType":"Tag Pushed","Detail":"{\\"repository\\":\\"acme/checkout\\",\\"tag\\":\\"v2.4.0\\"}"}';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** EventBridge writes times to the second. */
const eventTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * `send-event --file`: an EventBridge event as a rule receives it (`source`, `detail-type`,
 * `detail`), or what `aws events put-events` sends: one entry (`Source`, `DetailType`, `Detail`
 * as a JSON string, optional `EventBusName`, `Resources`, `Time`), a list of entries (the
 * `--entries` argument) or `{"Entries": [...]}` (`--cli-input-json`). Entries become events as
 * EventBridge makes them: an id, the account and region, the time (the entry's, or now).
 */
export function eventsFromFile(json: unknown, defaults: EventDefaults, localBus = 'tagflow'): EventsFromFile {
  if (isObject(json) && ('source' in json || 'detail-type' in json || 'detail' in json)) return { events: [busEvent(json, defaults)], notes: [] };
  const entries = Array.isArray(json) ? json : isObject(json) && 'Entries' in json ? json.Entries : isObject(json) && ('Source' in json || 'DetailType' in json || 'Detail' in json) ? [json] : undefined;
  if (entries === undefined) {
    throw new CliInputError(`expected an EventBridge event ({"source", "detail-type", "detail"}) or a put-events entry such as ${EXAMPLE}, a list of entries or {"Entries": [...]}`);
  }
  const where = Array.isArray(json) ? '' : isObject(json) && 'Entries' in json ? 'Entries' : undefined;
  if (!Array.isArray(entries) || entries.length === 0) throw new CliInputError(`${where || 'the file'}: expected a list of 1 to ${MAX_ENTRIES} put-events entries, e.g. [${EXAMPLE}]`);
  if (entries.length > MAX_ENTRIES) throw new CliInputError(`${where || 'the file'}: put-events takes at most ${MAX_ENTRIES} entries a call; got ${entries.length}`);
  const notes: string[] = [];
  const events = entries.map((entry, i) => {
    const at = where === undefined ? '' : `${where}[${i}].`;
    const { event, bus } = fromEntry(entry, at, defaults);
    const name = bus?.split('/').pop();
    if (name !== undefined && name !== localBus) notes.push(`${at}EventBusName ${bus}: the local runtime has one bus, where the stack's rules are; the event was put there`);
    return event;
  });
  return { events, notes };
}

function busEvent(e: Record<string, unknown>, d: EventDefaults): BusEvent {
  const need = (key: string, example: string) => {
    const v = e[key];
    if (typeof v !== 'string' || v === '') throw new CliInputError(`"${key}" must be a non-empty string, e.g. ${example}`);
    return v;
  };
  const source = need('source', '"tagflow"');
  const detailType = need('detail-type', '"Tag Pushed"');
  if (!isObject(e.detail)) throw new CliInputError(`"detail" must be a JSON object${typeof e.detail === 'string' ? ' (a string "Detail" is the put-events form: name the fields "Source", "DetailType", "Detail")' : ''}`);
  return {
    version: '0',
    id: typeof e.id === 'string' ? e.id : (d.id ?? randomUUID)(),
    'detail-type': detailType,
    source,
    account: typeof e.account === 'string' ? e.account : d.account,
    time: typeof e.time === 'string' ? e.time : eventTime(d.now),
    region: typeof e.region === 'string' ? e.region : d.region,
    resources: Array.isArray(e.resources) ? e.resources.filter((r): r is string => typeof r === 'string') : [],
    detail: e.detail,
  };
}

function fromEntry(entry: unknown, at: string, d: EventDefaults): { event: BusEvent; bus?: string } {
  if (!isObject(entry)) throw new CliInputError(`${at ? at.slice(0, -1) : 'the entry'}: expected a put-events entry such as ${EXAMPLE}`);
  const unknown = Object.keys(entry).filter((k) => !ENTRY_KEYS.includes(k));
  if (unknown.length) throw new CliInputError(`${at}${unknown[0]}: not a put-events entry field; entries take ${ENTRY_KEYS.join(', ')}`);
  const text = (key: string, example: string) => {
    const v = entry[key];
    if (typeof v !== 'string' || v === '') throw new CliInputError(`${at}${key}: ${v === undefined ? 'is required' : 'expected a non-empty string'}, e.g. ${example}`);
    return v;
  };
  const source = text('Source', '"tagflow"');
  const detailType = text('DetailType', '"Tag Pushed"');
  if (isObject(entry.Detail)) throw new CliInputError(`${at}Detail: put-events takes the detail as a JSON string, e.g. "Detail": ${JSON.stringify(JSON.stringify(entry.Detail).slice(0, 80))}`);
  const detailText = text('Detail', JSON.stringify('{"repository":"acme/checkout","tag":"v2.4.0"}'));
  let detail: unknown;
  try {
    detail = JSON.parse(detailText);
  } catch (err) {
    throw new CliInputError(`${at}Detail is not valid JSON (EventBridge refuses it as malformed): ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObject(detail)) throw new CliInputError(`${at}Detail must hold a JSON object, e.g. ${JSON.stringify('{"repository":"acme/checkout","tag":"v2.4.0"}')}`);
  const resources = entry.Resources ?? [];
  if (!Array.isArray(resources) || !resources.every((r) => typeof r === 'string')) throw new CliInputError(`${at}Resources: expected a list of ARNs (strings)`);
  const bus = entry.EventBusName;
  if (bus !== undefined && (typeof bus !== 'string' || bus === '')) throw new CliInputError(`${at}EventBusName: expected the bus name or ARN, e.g. "tagflow"`);
  return {
    event: {
      version: '0',
      id: (d.id ?? randomUUID)(),
      'detail-type': detailType,
      source,
      account: d.account,
      time: eventTime(entryTime(entry.Time, at) ?? d.now),
      region: d.region,
      resources,
      detail,
    },
    ...(bus === undefined ? {} : { bus }),
  };
}

/** put-events' Time: an ISO 8601 time or epoch seconds, as the AWS CLI takes it. */
function entryTime(value: unknown, at: string): Date | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? (/^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value)) : NaN;
  if (!Number.isFinite(ms)) throw new CliInputError(`${at}Time: expected an ISO 8601 time such as "2026-11-20T10:15:00Z" or epoch seconds; got ${JSON.stringify(value)}`);
  return new Date(ms);
}
