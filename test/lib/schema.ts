/**
 * The official schemas, compiled with ajv at test time: the newest copy
 * found, as the conformance suite finds it ($OCI_RUNTIME_SPEC_SCHEMA_DIR,
 * the v1.3.0 release beside the checkout, Debian's copy). A user's clone has
 * only Debian's pre-1.1 copy, which has no features schema: that check is
 * then reported skipped, never failed or passed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs module of the build, shared with the tests
import { loadSchemas, newAjv } from '../../schema/load.mjs';
// @ts-expect-error: a plain .mjs module of the build
import { DEBIAN_SCHEMA_DIR } from '../../schema/locate.mjs';
import { SPEC_V13_SCHEMA } from './cli';
import { reportSkip } from './skips';

type SchemaFile = 'state-schema.json' | 'features-schema.json' | 'config-schema.json';

function schemaDir(file: SchemaFile): string | undefined {
  const candidates = [process.env.OCI_RUNTIME_SPEC_SCHEMA_DIR, SPEC_V13_SCHEMA, DEBIAN_SCHEMA_DIR as string];
  return candidates.find((dir): dir is string => !!dir && existsSync(join(dir, file)));
}

/** Problems of a document against the official schema file (none: valid, or no copy has that file: reported skipped). */
export function officialValidator(file: SchemaFile, what = file) {
  const dir = schemaDir(file);
  if (!dir) {
    return (_doc: unknown): string[] => {
      reportSkip(`validating against ${file}`, `no copy of the official schema here has ${file} (${what})`);
      return [];
    };
  }
  const validate = newAjv(loadSchemas(dir)).getSchema(file)!;
  return (doc: unknown): string[] =>
    validate(doc)
      ? []
      : (validate.errors ?? []).map((e: { instancePath: string; message?: string }) => `${e.instancePath} ${e.message}`);
}
