// Loading a directory of the official schema into ajv (draft-04), shared by
// the build (generate.mjs) and the tests.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const Ajv = require('ajv-draft-04').default;

// Every schema file, keyed by file name so that the relative
// "$ref": "defs.json#/..." links resolve as they do on disk. Refs are
// normalised on the way in: the v1.3.0 release has a "#definitions/uint32"
// (no slash) that ajv tolerates and other ref parsers do not.
export function loadSchemas(dir) {
  const schemas = {};
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    const text = readFileSync(join(dir, name), 'utf8').replaceAll('"#definitions/', '"#/definitions/');
    schemas[name] = JSON.parse(text);
  }
  return schemas;
}

export function newAjv(schemas, opts = {}) {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, ...opts });
  for (const [name, schema] of Object.entries(schemas)) ajv.addSchema(schema, name);
  return ajv;
}
