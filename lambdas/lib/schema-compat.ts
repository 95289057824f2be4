/**
 * A build's schema (the database schema version its code expects, `schema` in the manifest)
 * and the schemas it runs against (`schemaCompat`: "7" one version, "7+" that one and every
 * later one, so a build can declare it works with the expansions still to come). The rollback
 * machine reads them once a migration ran (migrations-config.ts).
 */

export const SCHEMA_COMPAT_ENTRY = /^(0|[1-9]\d{0,8})(\+)?$/;
export const SCHEMA_COMPAT_EXPECT = 'a schema version such as "7", or "7+" for that one and every later one';

/** Whether a build declares it runs against `schema`. */
export function runsAgainst(build: { schema?: number | undefined; schemaCompat?: readonly string[] | undefined }, schema: number): boolean {
  if (build.schema === schema) return true;
  return (build.schemaCompat ?? []).some((entry) => {
    const m = SCHEMA_COMPAT_ENTRY.exec(entry);
    if (!m) return false;
    const n = Number(m[1]);
    return m[2] ? schema >= n : schema === n;
  });
}

/** How a build's declaration reads in a refusal. */
export const describeCompat = (build: { schema?: number | undefined; schemaCompat?: readonly string[] | undefined }): string =>
  build.schema === undefined && !build.schemaCompat?.length
    ? 'declares no schema and no schemaCompat'
    : [build.schema === undefined ? '' : `expects schema ${build.schema}`, build.schemaCompat?.length ? `declares schemaCompat ${JSON.stringify(build.schemaCompat)}` : 'declares no schemaCompat'].filter(Boolean).join(' and ');
