import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ToolDefinitionInvalidError } from './errors.js';

/** Schema errors reported in a `ToolInputInvalidError` (the first ones Ajv finds), *fixed*. */
export const MAX_REPORTED_SCHEMA_ERRORS = 8;

/** One schema violation, as reported to the agent. */
export interface SchemaViolation {
  /** JSON Pointer to the offending part of the input (`''` is the whole input). */
  instancePath: string;
  /** What is wrong, in Ajv's words. */
  message: string;
}

/** A compiled input schema: `null` when the input matches, else its violations. */
export type InputCheck = (input: unknown) => SchemaViolation[] | null;

const DRAFT_07 = /json-schema\.org\/draft-0[67]\/schema/;

/**
 * Compiles MCP tool input schemas with Ajv (JSON Schema 2020-12, the MCP default dialect, or
 * draft-07 when the schema's `$schema` names draft-06/07), formats checked by `ajv-formats`.
 * One instance per toolset: compiled schemas are cached in it and dropped with it.
 *
 * Ajv generates code from a schema; an MCP server's schema is data from a peer, so its size
 * is capped before it gets here (`maxDefinitionBytes`) and `$ref`s to remote documents are not
 * fetched (Ajv never loads a schema it was not given).
 */
export class SchemaCompiler {
  readonly #ajv2020 = withFormats(new Ajv2020({ strict: false, allErrors: false, logger: false, validateSchema: true }));
  readonly #ajv07 = withFormats(new Ajv({ strict: false, allErrors: false, logger: false, validateSchema: true }));

  /** Compiles `schema`; a schema Ajv refuses is a `ToolDefinitionInvalidError`. */
  compile(tool: string, schema: Readonly<Record<string, unknown>>): InputCheck {
    const { $schema, $id: _id, ...rest } = schema;
    const ajv = typeof $schema === 'string' && DRAFT_07.test($schema) ? this.#ajv07 : this.#ajv2020;
    let validate: ValidateFunction;
    try {
      // Without $schema/$id: the dialect is chosen above, and an $id would register the schema
      // in the shared instance (a second server reusing the $id would then fail to compile).
      validate = ajv.compile(rest);
    } catch (err) {
      throw new ToolDefinitionInvalidError(`tool ${tool}: its inputSchema does not compile: ${(err as Error).message}`, { cause: err });
    }
    return (input) => (validate(input) ? null : violations(validate.errors));
  }
}

function violations(errors: ErrorObject[] | null | undefined): SchemaViolation[] {
  return (errors ?? []).slice(0, MAX_REPORTED_SCHEMA_ERRORS).map((e) => ({ instancePath: e.instancePath, message: e.message ?? e.keyword }));
}

function withFormats<T extends Ajv | Ajv2020>(ajv: T): T {
  (addFormats as unknown as (a: T) => T)(ajv);
  return ajv;
}
