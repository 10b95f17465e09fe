import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fs from 'fs';
import path from 'path';
import YAML from 'yaml';

/** Validators for Airbyte protocol messages (contracts/airbyte_protocol.yaml) and records. */

const ROOT = path.resolve(__dirname, '..', '..');
let messageValidator: ValidateFunction | undefined;
let catalogValidator: ValidateFunction | undefined;

function protocolAjv(): Ajv {
  const doc = YAML.parse(
    fs.readFileSync(path.join(ROOT, 'contracts', 'airbyte_protocol.yaml'), 'utf8'),
  );
  // The protocol schema uses Java codegen keywords (existingJavaType): annotations, not rules.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'protocol');
  return ajv;
}

function validators(): { message: ValidateFunction; catalog: ValidateFunction } {
  if (!messageValidator || !catalogValidator) {
    const ajv = protocolAjv();
    messageValidator = ajv.compile({ $ref: 'protocol#/definitions/AirbyteMessage' });
    catalogValidator = ajv.compile({ $ref: 'protocol#/definitions/ConfiguredAirbyteCatalog' });
  }
  return { message: messageValidator, catalog: catalogValidator };
}

/** Problems with one stdout line, as readable strings (empty when the line is a valid message). */
export function protocolProblems(line: string): string[] {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return [`not JSON: ${line.slice(0, 200)}`];
  }
  const validate = validators().message;
  if (validate(msg)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath} ${e.message}: ${line.slice(0, 200)}`,
  );
}

export function catalogProblems(catalog: unknown): string[] {
  const validate = validators().catalog;
  if (validate(catalog)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** A validator for records of one discovered stream schema, with strict date-time formats. */
export function recordValidator(schema: object): (record: unknown) => string[] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv, { mode: 'full' });
  const validate = ajv.compile(schema);
  return (record) =>
    validate(record)
      ? []
      : (validate.errors ?? []).map(
          (e) => `${e.instancePath} ${e.message} (${JSON.stringify(e.params)})`,
        );
}
