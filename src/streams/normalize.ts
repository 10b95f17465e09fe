import { ApiRecord } from '../client/client';

/** The project's one key rule: `_` before each upper-case letter, then lower-case it. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function camelCase(snake: string): string {
  return snake.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

export type NormalizedRecord = Record<string, unknown>;

/**
 * Turns API records (camelCase top level) into stream records: snake_case top-level keys, nested
 * values untouched, every schema property present (null when the API omitted it), unknown fields
 * kept. The schema's properties are looked up by their precomputed API names, so a record with the
 * usual fields costs one pass over the schema, and every record comes out with the same key order
 * (which also keeps JSON.stringify on its fast path).
 */
export class Normalizer {
  /** [snake_case name, API name] per schema property. */
  private readonly pairs: Array<[string, string]>;
  private readonly apiNames: Set<string>;
  private readonly keyCache = new Map<string, string>();

  constructor(schemaProperties: readonly string[]) {
    this.pairs = schemaProperties.map((prop) => {
      const api = camelCase(prop);
      return [prop, snakeCase(api) === prop ? api : prop];
    });
    this.apiNames = new Set(this.pairs.map(([, api]) => api));
  }

  normalize(record: ApiRecord): NormalizedRecord {
    const out: NormalizedRecord = {};
    let matched = 0;
    for (const [snake, api] of this.pairs) {
      const value = record[api];
      if (value === undefined) {
        out[snake] = null;
      } else {
        out[snake] = value;
        matched++;
      }
    }
    let keys = 0;
    for (const _key in record) keys++;
    if (keys !== matched) this.extras(record, out);
    return out;
  }

  /** Fields the schema does not list (or sent already snake_cased): snake_cased, passed through. */
  private extras(record: ApiRecord, out: NormalizedRecord): void {
    for (const key in record) {
      if (this.apiNames.has(key)) continue;
      let snake = this.keyCache.get(key);
      if (snake === undefined) {
        snake = snakeCase(key);
        this.keyCache.set(key, snake);
      }
      const value = record[key];
      out[snake] = value === undefined ? null : value;
    }
  }
}
