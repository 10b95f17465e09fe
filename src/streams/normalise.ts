import { ApiRecord } from '../client/client';

/** The project's one key rule: `_` before each upper-case letter, then lower-case it. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export type NormalisedRecord = Record<string, unknown>;

/**
 * Turns API records (camelCase top level) into stream records: snake_case top-level keys, nested
 * values untouched, every schema property present (null when the API omitted it), unknown fields
 * kept. Key conversions are cached, so the per-record cost is a couple of property loops.
 */
export class Normaliser {
  private readonly keyCache = new Map<string, string>();

  constructor(private readonly schemaProperties: readonly string[]) {}

  normalise(record: ApiRecord): NormalisedRecord {
    const out: NormalisedRecord = {};
    for (const key in record) {
      let snake = this.keyCache.get(key);
      if (snake === undefined) {
        snake = snakeCase(key);
        this.keyCache.set(key, snake);
      }
      const value = record[key];
      out[snake] = value === undefined ? null : value;
    }
    for (const prop of this.schemaProperties) {
      if (out[prop] === undefined) out[prop] = null;
    }
    return out;
  }
}
