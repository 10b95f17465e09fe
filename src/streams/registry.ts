import { readResourceJson } from '../resources';

/** One entry of resources/streams.json: everything that differs between the streams, as data. */
export interface StreamDefinition {
  name: string;
  path: string;
  primary_key: string;
  cursor_field: string;
  status_field: string;
  open_statuses: string[];
  id_filter: string | null;
  /** Config option name -> API query parameter. */
  filters: Record<string, string>;
}

export interface JsonSchema {
  properties: Record<string, unknown>;
  [key: string]: unknown;
}

let registry: StreamDefinition[] | undefined;
const schemas = new Map<string, JsonSchema>();

export function streamDefinitions(): StreamDefinition[] {
  registry ??= readResourceJson<{ streams: StreamDefinition[] }>('streams.json').streams;
  return registry;
}

export function streamDefinition(name: string): StreamDefinition {
  const found = streamDefinitions().find((s) => s.name === name);
  if (!found) throw new Error(`No stream named ${name} in resources/streams.json`);
  return found;
}

/** The stream's JSON schema (resources/schemas/<name>.json), loaded once. */
export function streamSchema(name: string): JsonSchema {
  let schema = schemas.get(name);
  if (!schema) {
    schema = readResourceJson<JsonSchema>(`schemas/${name}.json`);
    schemas.set(name, schema);
  }
  return schema;
}
