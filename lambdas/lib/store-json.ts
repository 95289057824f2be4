import type { ObjectLocation, ObjectReader } from './ports.js';

export type JsonRead = { ok: true; value: unknown } | { ok: false };

/** A JSON object from the store: undefined when missing, `{ok:false}` when not valid JSON. */
export async function readJson(store: ObjectReader, loc: ObjectLocation): Promise<JsonRead | undefined> {
  const bytes = await store.get(loc);
  if (!bytes) return undefined;
  try {
    return { ok: true, value: JSON.parse(new TextDecoder().decode(bytes)) };
  } catch {
    return { ok: false };
  }
}
