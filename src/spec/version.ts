import schemaSource from './generated/schema-source.json';

/** The runtime-spec version runts implements and writes into new configs. */
export const SPEC_VERSION = '1.3.0';
/** Oldest config version runts accepts (any 1.x, see checks.ts). */
export const SPEC_VERSION_MIN = '1.0.0';

/**
 * The official schema this build validates configs with (schema/locate.mjs
 * found it): `version` is the oldest release that fits it, `exact` whether
 * its files are that release's.
 */
export const SCHEMA: { dir: string; source: string; version: string; exact: boolean; detectedBy: string } = schemaSource;

/** "1.3.0 (…)", as --version and validate print it. */
export function schemaDescription(): string {
  const version = SCHEMA.exact ? SCHEMA.version : `${SCHEMA.version} or later, not the exact release`;
  return `${version} (${SCHEMA.source}: ${SCHEMA.dir})`;
}
