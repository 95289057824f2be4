import { createHash } from 'node:crypto';
import { Ajv, type Plugin, type ValidateFunction } from 'ajv';
import * as formats from 'ajv-formats';
// @ts-expect-error: the package ships no types; it is an ajv plugin taking { formats }.
import * as draft2019 from 'ajv-formats-draft2019';
// The CycloneDX library's own schema files (the ones its JsonStrictValidator reads from disk),
// imported so that a bundled Lambda carries them: the library finds them by __dirname, which a
// bundle does not have. The library exports no path to them, hence the relative imports.
import bom12 from '../../../node_modules/@cyclonedx/cyclonedx-library/res/schema/bom-1.2-strict.SNAPSHOT.schema.json' with { type: 'json' };
import bom13 from '../../../node_modules/@cyclonedx/cyclonedx-library/res/schema/bom-1.3-strict.SNAPSHOT.schema.json' with { type: 'json' };
import bom14 from '../../../node_modules/@cyclonedx/cyclonedx-library/res/schema/bom-1.4.SNAPSHOT.schema.json' with { type: 'json' };
import bom15 from '../../../node_modules/@cyclonedx/cyclonedx-library/res/schema/bom-1.5.SNAPSHOT.schema.json' with { type: 'json' };
import bom16 from '../../../node_modules/@cyclonedx/cyclonedx-library/res/schema/bom-1.6.SNAPSHOT.schema.json' with { type: 'json' };
import bom17 from '../../../node_modules/@cyclonedx/cyclonedx-library/res/schema/bom-1.7.SNAPSHOT.schema.json' with { type: 'json' };
import cryptoDefs from '../../../node_modules/@cyclonedx/cyclonedx-library/res/schema/cryptography-defs.SNAPSHOT.schema.json' with { type: 'json' };
import jsf from '../../../node_modules/@cyclonedx/cyclonedx-library/res/schema/jsf-0.82.SNAPSHOT.schema.json' with { type: 'json' };
import spdx from '../../../node_modules/@cyclonedx/cyclonedx-library/res/schema/spdx.SNAPSHOT.schema.json' with { type: 'json' };

import { countComponents, type CycloneDxBom, SbomInvalid } from './sbom.js';

/**
 * Reading the build's CycloneDX SBOM: validated against the CycloneDX schema of its own
 * specVersion, then its component count and its own SHA-256, which the release records so the
 * ledger says exactly which document was accepted.
 *
 * Validation is exactly as `@cyclonedx/cyclonedx-library`'s `JsonStrictValidator`
 * does it (its ajv plug: the same schema per spec version, the same referenced schemas, ajv
 * options and formats), without reading files at run time. test/unit/sbom.test.ts checks both
 * give the same verdicts.
 */
/** A CommonJS plugin's function, however the module system hands it over. */
const pluginOf = <T>(m: unknown): Plugin<T> => {
  let f = m as { default?: unknown };
  while (typeof f !== 'function' && f && f.default) f = f.default as { default?: unknown };
  return f as unknown as Plugin<T>;
};
const addFormats = pluginOf<unknown>(formats);
const addDraft2019Formats = pluginOf<{ formats: string[] }>(draft2019);

const STRICT: Record<string, object> = { '1.2': bom12, '1.3': bom13, '1.4': bom14, '1.5': bom15, '1.6': bom16, '1.7': bom17 };
const REFERENCED = {
  'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': spdx,
  'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json': cryptoDefs,
  'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': jsf,
};

/** The spec versions the library has a JSON schema for. */
export const SBOM_SPEC_VERSIONS = Object.keys(STRICT);

const compiled = new Map<string, ValidateFunction>();

/** The schema's errors for this document (null: valid); compiled once per spec version and process. */
export function cycloneDxErrors(doc: unknown, specVersion: string): ValidateFunction['errors'] {
  let validate = compiled.get(specVersion);
  if (validate === undefined) {
    const schema = STRICT[specVersion];
    if (!schema) throw new Error(`no CycloneDX schema for specVersion ${specVersion}`);
    const ajv = new Ajv({ useDefaults: false, strict: false, strictSchema: false, addUsedSchema: false, schemas: structuredClone(REFERENCED), loadSchema: (uri: string) => Promise.reject(new Error(`Remote schemas are disabled: ${uri}`)) });
    addFormats(ajv);
    addDraft2019Formats(ajv, { formats: ['idn-email'] });
    ajv.addFormat('iri-reference', true);
    const fresh = ajv.compile(structuredClone(schema));
    compiled.set(specVersion, fresh);
    validate = fresh;
  }
  return validate(doc) ? null : (validate.errors ?? null);
}

export interface ReadSbom {
  bom: CycloneDxBom;
  specVersion: string;
  /** Every component, nested ones included. */
  components: number;
  /** SHA-256 of the uploaded bytes, hex. */
  sha256: string;
}

const MAX_PROBLEMS = 3;

/** An ajv error as a line: where in the document, what is wrong. */
function problemOf(e: NonNullable<ValidateFunction['errors']>[number]): string {
  const p = e.params as Record<string, unknown>;
  const extra = p.additionalProperty ?? p.allowedValues ?? p.missingProperty;
  return `${e.instancePath || '(document)'} ${e.message ?? 'is invalid'}${extra !== undefined ? ` (${JSON.stringify(extra)})` : ''}`;
}

/** Reads and validates an SBOM; throws `SbomInvalid` naming where and the first problems. */
export async function readSbom(bytes: Uint8Array, where: string): Promise<ReadSbom> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new SbomInvalid(`${where} is not valid JSON (${(err as Error).message}): CI must upload a CycloneDX JSON SBOM`, ['not JSON']);
  }
  const o = doc as Partial<CycloneDxBom> | null;
  if (!o || typeof o !== 'object' || o.bomFormat !== 'CycloneDX')
    throw new SbomInvalid(`${where} is not a CycloneDX SBOM (bomFormat ${JSON.stringify(o?.bomFormat)}, expected "CycloneDX"): CI must upload a CycloneDX JSON SBOM`, ['bomFormat']);
  const specVersion = String(o.specVersion);
  if (!SBOM_SPEC_VERSIONS.includes(specVersion))
    throw new SbomInvalid(`${where}: specVersion ${JSON.stringify(o.specVersion)} is not one tagflow validates (${SBOM_SPEC_VERSIONS.join(', ')}); have CI write CycloneDX 1.5 or later`, ['specVersion']);
  const errors = cycloneDxErrors(doc, specVersion);
  if (errors) {
    const problems = errors.slice(0, MAX_PROBLEMS).map(problemOf);
    throw new SbomInvalid(`${where} is not a valid CycloneDX ${specVersion} SBOM: ${problems.join('; ')}`, problems);
  }
  const bom = o as CycloneDxBom;
  return { bom, specVersion, components: countComponents(bom.components), sha256 };
}
