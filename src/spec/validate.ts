/**
 * config.json validation in two layers:
 *  - schemaProblems: the official runtime-spec JSON Schema, through the ajv
 *    validator precompiled at build time (src/spec/generated);
 *  - runtimeProblems: what the schema cannot say and what runts cannot run
 *    (checks.ts). `validate` prints those as warnings; `create` refuses.
 */
import type { ErrorObject } from 'ajv';
import { type Problem, escapePointer } from '../errors';
// Precompiled at build (schema/generate.mjs): no schema compilation at run time.
import validateConfig from './generated/validate-config.js';

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

function toProblem(err: ErrorObject): Problem {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required':
      return { pointer: `${err.instancePath}/${escapePointer(String(p.missingProperty))}`, message: 'is required' };
    case 'additionalProperties':
      return {
        pointer: `${err.instancePath}/${escapePointer(String(p.additionalProperty))}`,
        message: 'is not an allowed property here',
      };
    case 'enum':
      return {
        pointer: err.instancePath,
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    default:
      return { pointer: err.instancePath, message: err.message ?? err.keyword };
  }
}

/**
 * The schema's verdict, one problem per distinct pointer and message.
 * The summary of a failed oneOf/anyOf ("must match exactly one schema") is
 * kept only when no branch said anything more precise at or below its path.
 */
export function schemaProblems(doc: unknown): Problem[] {
  const validate = validateConfig as unknown as Validator;
  if (validate(doc)) return [];
  const errors = validate.errors ?? [];
  const precise = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf');
  const kept = errors.filter(
    (e) =>
      (e.keyword !== 'oneOf' && e.keyword !== 'anyOf') ||
      !precise.some((q) => q.instancePath === e.instancePath || q.instancePath.startsWith(`${e.instancePath}/`)),
  );
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const problem of kept.map(toProblem)) {
    const key = `${problem.pointer}\0${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}
