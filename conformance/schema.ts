/**
 * The official runtime-spec JSON Schema, for the state and features
 * documents a runtime prints: the copy runts' build used
 * (src/spec/generated/schema-source.json; schema/locate.mjs found it:
 * $OCI_RUNTIME_SPEC_SCHEMA_DIR, the pinned v1.3.0 release, else Debian's
 * older copy), when it has both files.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs module of the build, shared with the tests
import { loadSchemas, newAjv } from '../schema/load.mjs';
// @ts-expect-error: a plain .mjs module of the build
import { buildSchemaSource } from '../schema/locate.mjs';
import { TOP } from './paths';

type Validate = ((doc: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };

export type SchemaFile = 'state-schema.json' | 'features-schema.json';

function schemaDir(): string | undefined {
  const dir = (buildSchemaSource(TOP) as { dir: string } | undefined)?.dir;
  // The features schema came with runtime-spec 1.1: older copies cannot check a features document.
  return dir && ['state-schema.json', 'features-schema.json'].every((f) => existsSync(join(dir, f))) ? dir : undefined;
}

let validators: Map<SchemaFile, Validate> | undefined;

export const officialSchemaFound = (): boolean => schemaDir() !== undefined;

/** Problems of `doc` against one official schema file (none: valid). */
export function schemaProblems(file: SchemaFile, doc: unknown): string[] {
  if (!validators) {
    const dir = schemaDir();
    if (!dir) throw new Error('official schema not found');
    const ajv = newAjv(loadSchemas(dir));
    validators = new Map();
    for (const name of ['state-schema.json', 'features-schema.json'] as const)
      validators.set(name, ajv.getSchema(name) as Validate);
  }
  const validate = validators.get(file)!;
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
}

/** Property names a schema object defines (to spot properties a version does not define). */
export function definedProperties(file: 'features-schema.json' | 'features-linux.json', pointer: string[]): string[] {
  const dir = schemaDir();
  if (!dir) throw new Error('official schema not found');
  let node = loadSchemas(dir)[file] as Record<string, unknown>;
  for (const key of pointer) node = (node[key] ?? {}) as Record<string, unknown>;
  return Object.keys(node.properties ?? {});
}
