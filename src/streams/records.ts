import { ApiRecord, Page } from '../client/client';
import { Normalizer, snakeCase } from './normalize';
import { StreamDefinition } from './registry';
import { Framing, PageTranscoder } from './transcode';

/** API (camelCase) name of a stream-record field, e.g. run_status -> runStatus. */
function apiName(field: string): string {
  return field.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Reads the fields the engine needs from API records, and encodes records to stream-record JSON:
 * through the text transcoder when the page's body is at hand, else through the Normalizer.
 */
export class RecordEncoder {
  private readonly normalizer: Normalizer;
  private readonly transcoder: PageTranscoder;
  private readonly cursorApi: string;
  private readonly statusApi: string;

  constructor(
    private readonly definition: StreamDefinition,
    schemaProperties: readonly string[],
  ) {
    this.normalizer = new Normalizer(schemaProperties);
    this.transcoder = new PageTranscoder(schemaProperties);
    this.cursorApi = apiName(definition.cursor_field);
    this.statusApi = apiName(definition.status_field);
    // The registry's field names must round-trip through the key rule, or lookups would miss.
    if (snakeCase(this.cursorApi) !== definition.cursor_field)
      this.cursorApi = definition.cursor_field;
    if (snakeCase(this.statusApi) !== definition.status_field)
      this.statusApi = definition.status_field;
  }

  status(raw: ApiRecord): unknown {
    return raw[this.statusApi] ?? raw[this.definition.status_field];
  }

  cursor(raw: ApiRecord): unknown {
    return raw[this.cursorApi] ?? raw[this.definition.cursor_field];
  }

  /** The page's records at `indexes` (ascending) as stream-record JSON, each framed. */
  encode(page: Page, indexes: number[], framing: Framing): Buffer {
    if (indexes.length === 0) return Buffer.alloc(0);
    if (page.body) {
      const fast = this.transcoder.transcode(page.body, page.results.length, indexes, framing);
      if (fast) return fast;
    }
    const parts: Buffer[] = [];
    for (const i of indexes) {
      parts.push(
        framing.head,
        Buffer.from(JSON.stringify(this.normalizer.normalize(page.results[i]))),
        framing.tail,
      );
    }
    return Buffer.concat(parts);
  }
}
