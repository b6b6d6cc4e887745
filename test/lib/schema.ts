/** The official v1.3.0 schemas from ../shared, compiled with ajv at test time. */
// @ts-expect-error: a plain .mjs module of the build, shared with the tests
import { loadSchemas, newAjv } from '../../schema/load.mjs';
import { SPEC_V13_SCHEMA } from './cli';

export function officialValidator(file: 'state-schema.json' | 'features-schema.json' | 'config-schema.json') {
  const validate = newAjv(loadSchemas(SPEC_V13_SCHEMA)).getSchema(file)!;
  return (doc: unknown): string[] =>
    validate(doc) ? [] : (validate.errors ?? []).map((e: { instancePath: string; message?: string }) => `${e.instancePath} ${e.message}`);
}
