/**
 * A strict JSON-schema validator for the Orchestra OpenAPI 3.1 contract (contracts/orchestra-openapi.json).
 * OpenAPI 3.1 schemas are JSON Schema 2020-12 with two differences handled here:
 *   - component refs (`#/components/schemas/X`) become `#/$defs/X` of one root schema, so ajv resolves them;
 *   - `discriminator` (an OpenAPI annotation; ajv's own support rejects `mapping`) is dropped: the `oneOf`
 *     it annotates still decides, since each branch has a different `const` type.
 * Formats are strict: `uuid4` (used by the contract, unknown to ajv-formats) is added as a real UUID v4 check.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

export const OPENAPI_PATH = path.join(__dirname, '..', '..', 'contracts', 'orchestra-openapi.json');
const ROOT_ID = 'https://orchestra.local/openapi.json';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function convert(node: Json): Json {
  if (Array.isArray(node)) return node.map(convert);
  if (node === null || typeof node !== 'object') return node;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'discriminator') continue;
    if (k === '$ref' && typeof v === 'string') {
      out[k] = v.replace('#/components/schemas/', '#/$defs/');
      continue;
    }
    out[k] = convert(v);
  }
  return out;
}

export interface ContractValidator {
  /** Validate `data` against components/schemas/<name>; returns readable errors (empty when valid). */
  validate(name: string, data: unknown): string[];
  schemaNames: string[];
  schema(name: string): { properties?: Record<string, unknown>; required?: string[] };
}

export function loadContract(): ContractValidator {
  const doc = JSON.parse(fs.readFileSync(OPENAPI_PATH, 'utf8')) as {
    components: { schemas: Record<string, Json> };
  };
  const defs = convert(doc.components.schemas as Json) as Record<string, Json>;
  const ajv = new Ajv2020({ strict: true, allErrors: true, strictRequired: false });
  addFormats(ajv);
  ajv.addFormat('uuid4', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i);
  ajv.addSchema({ $id: ROOT_ID, $defs: defs });
  const cache = new Map<string, ValidateFunction>();
  const fmt = (errs: ErrorObject[] | null | undefined): string[] =>
    (errs ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    );
  return {
    schemaNames: Object.keys(defs),
    schema: (name) =>
      doc.components.schemas[name] as { properties?: Record<string, unknown>; required?: string[] },
    validate(name, data) {
      let v = cache.get(name);
      if (!v) {
        v = ajv.compile({ $ref: `${ROOT_ID}#/$defs/${name}` });
        cache.set(name, v);
      }
      return v(data) ? [] : fmt(v.errors);
    },
  };
}
