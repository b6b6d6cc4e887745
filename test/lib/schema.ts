/**
 * The official schemas, compiled with ajv at test time: the copy the build
 * used (src/spec/generated/schema-source.json, written by schema/generate.mjs),
 * so that the tests check what this build checks. The v1.3.0 release is what
 * the build fetches; offline, it falls back to Debian's pre-1.1 copy, which
 * has no features schema: that check is then reported skipped, never failed
 * or passed, and so are the tests of fields newer than the build's copy.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs module of the build, shared with the tests
import { loadSchemas, newAjv } from '../../schema/load.mjs';
// @ts-expect-error: a plain .mjs module of the build
import { buildSchemaSource } from '../../schema/locate.mjs';
import { TOP } from './cli';
import { reportSkip } from './skips';

type SchemaFile = 'state-schema.json' | 'features-schema.json' | 'config-schema.json';

export interface SchemaSource {
  dir: string;
  source: string;
  /** The oldest runtime-spec release the copy fits; `exact`: its files are that release's. */
  version: string;
  exact: boolean;
  detectedBy: string;
}

/** What the build used; the tests run after a build (npm test builds first). */
export const BUILD_SCHEMA: SchemaSource = (() => {
  const source = buildSchemaSource(TOP) as SchemaSource | undefined;
  if (!source) throw new Error('src/spec/generated/schema-source.json is missing: build first (node scripts/build.mjs)');
  return source;
})();

/** Whether the build's schema is runtime-spec 1.3.0 (else the tests of 1.3 fields skip, naming it). */
export const SCHEMA_IS_V13 = BUILD_SCHEMA.version === '1.3.0';
export const OLDER_SCHEMA_REASON = `the build's schema is older than runtime-spec 1.3.0 (${BUILD_SCHEMA.source}, ${BUILD_SCHEMA.dir}: ${BUILD_SCHEMA.detectedBy})`;

/** The build's schema files, by name ("defs.json", …), refs normalised as the build loads them. */
export function buildSchemas(): Record<string, any> {
  return loadSchemas(BUILD_SCHEMA.dir);
}

/** Problems of a document against the official schema file (none: valid, or the build's copy lacks that file: reported skipped). */
export function officialValidator(file: SchemaFile, what: string = file, { strict = false } = {}) {
  if (!existsSync(join(BUILD_SCHEMA.dir, file))) {
    return (_doc: unknown): string[] => {
      reportSkip(`validating against ${file}`, `the build's schema copy (${BUILD_SCHEMA.dir}) has no ${file} (${what})`);
      return [];
    };
  }
  const schemas = loadSchemas(BUILD_SCHEMA.dir);
  if (strict) for (const schema of Object.values(schemas)) closeObjects(schema);
  const validate = newAjv(schemas).getSchema(file)!;
  return (doc: unknown): string[] =>
    validate(doc)
      ? []
      : (validate.errors ?? []).map(
          (e: { instancePath: string; message?: string; params?: { additionalProperty?: string } }) =>
            `${e.instancePath} ${e.message}${e.params?.additionalProperty ? ` "${e.params.additionalProperty}"` : ''}`,
        );
}

/**
 * Strict: every object schema that lists its properties admits no other
 * (the spec's schemas leave them open; features.md: a features document
 * MUST NOT contain properties its ociVersionMax does not define).
 */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(closeObjects);
  if (!node || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (obj.properties && obj.additionalProperties === undefined && !obj.patternProperties) obj.additionalProperties = false;
  for (const value of Object.values(obj)) closeObjects(value);
}
