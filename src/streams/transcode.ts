import { snakeCase } from './normalize';

/**
 * The hot path of a sync: turns the bytes of an API page into framed stream-record JSON bytes
 * without re-serialising any value. The body has already been validated by JSON.parse (the parsed
 * records drive ids, statuses and dedupe); this scan only finds each record's top-level keys and
 * where their values start and end, so the output is the API's own bytes with renamed keys and
 * `null` for the schema properties the API omitted: the same records as Normalizer +
 * JSON.stringify, without building strings (which dominated a sync's CPU and garbage). Anything
 * unexpected returns undefined, and the caller falls back to the object path for that page.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

interface KeyInfo {
  /** The API key's bytes (between the quotes), to recognise it without decoding. */
  api: Buffer;
  /** `"snake_key":`, or undefined when the API key is already the stream key. */
  prefix?: Buffer;
  /** Index in the schema's property list, or -1 for a field the schema does not list. */
  schemaIndex: number;
}

/** Bytes put around each record: e.g. the RECORD message envelope and a newline. */
export interface Framing {
  head: Buffer;
  tail: Buffer;
}

export class PageTranscoder {
  private readonly byName = new Map<string, KeyInfo>();
  /** Keys in the order last seen: records of a page list their keys in the same order. */
  private order: KeyInfo[] = [];
  private readonly schemaIndex = new Map<string, number>();
  private readonly nullTails: Buffer[];
  private readonly nullTailBytes: number;
  private readonly seen: Uint8Array;
  private scratch?: Buffer;

  constructor(schemaProperties: readonly string[]) {
    schemaProperties.forEach((p, i) => this.schemaIndex.set(p, i));
    this.nullTails = schemaProperties.map((p) => Buffer.from(`,${JSON.stringify(p)}:null`));
    this.nullTailBytes = this.nullTails.reduce((n, b) => n + b.length, 0);
    this.seen = new Uint8Array(schemaProperties.length);
  }

  /**
   * The framed records of the body's top-level `results` array whose index is in `keep`
   * (ascending), or undefined when the body is not shaped as expected.
   */
  transcode(body: Buffer, count: number, keep: number[], framing: Framing): Buffer | undefined {
    let i = this.findResults(body);
    if (i < 0) return undefined;
    const perRecord = framing.head.length + framing.tail.length + this.nullTailBytes + 2;
    // Renamed keys grow by their underscores (fewer bytes than the key itself): bounded by 2x.
    const out = this.scratchOf(body.length * 2 + count * perRecord);
    let pos = 0;
    let index = 0;
    let k = 0;
    i++;
    const n = body.length;
    for (;;) {
      i = skipSpace(body, i);
      if (i >= n) return undefined;
      const c = body[i];
      if (c === CLOSE_ARRAY) break;
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c !== OPEN_OBJECT) return undefined;
      const wanted = k < keep.length && keep[k] === index;
      if (wanted) {
        pos += framing.head.copy(out, pos);
        const end = this.record(body, i, out, pos);
        if (end === undefined) return undefined;
        pos = end.pos;
        pos += framing.tail.copy(out, pos);
        i = end.next;
        k++;
      } else {
        i = skipValue(body, i);
        if (i < 0) return undefined;
      }
      index++;
    }
    if (index !== count || k !== keep.length) return undefined;
    // The scratch buffer is reused for the next page: hand out an exact-size copy.
    const result = Buffer.allocUnsafe(pos);
    out.copy(result, 0, 0, pos);
    return result;
  }

  /** One working buffer per stream, grown when a page needs more: pages churn no big buffers. */
  private scratchOf(size: number): Buffer {
    if (!this.scratch || this.scratch.length < size) this.scratch = Buffer.allocUnsafe(size);
    return this.scratch;
  }

  /** Copies one record starting at `start` (its `{`) to `out`; undefined on unexpected input. */
  private record(
    body: Buffer,
    start: number,
    out: Buffer,
    pos: number,
  ): { pos: number; next: number } | undefined {
    const seen = this.seen;
    seen.fill(0);
    // Bytes are copied in runs: from `from` up to the next key that needs renaming.
    let from = start;
    let i = start + 1;
    let slot = 0;
    const n = body.length;
    for (;;) {
      i = skipSpace(body, i);
      if (i >= n) return undefined;
      const c = body[i];
      if (c === CLOSE_OBJECT) break;
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c !== QUOTE) return undefined;
      const keyEnd = skipString(body, i) - 1;
      if (keyEnd < 0) return undefined;
      const info = this.key(body, i + 1, keyEnd, slot);
      if (!info) return undefined;
      slot++;
      let v = skipSpace(body, keyEnd + 1);
      if (body[v] !== COLON) return undefined;
      v = skipSpace(body, v + 1);
      if (info.prefix) {
        pos = copy(body, from, i, out, pos);
        pos = copy(info.prefix, 0, info.prefix.length, out, pos);
        from = v;
      }
      if (info.schemaIndex >= 0) seen[info.schemaIndex] = 1;
      i = skipValue(body, v);
      if (i < 0) return undefined;
    }
    // Up to (not including) the closing brace, then the omitted schema fields, then the brace.
    pos = copy(body, from, i, out, pos);
    const empty = slot === 0;
    for (let p = 0; p < seen.length; p++) {
      if (seen[p] === 0) {
        const tail = this.nullTails[p];
        // The first field of an empty object has no leading comma.
        pos += empty && p === seen.indexOf(0) ? tail.copy(out, pos, 1) : tail.copy(out, pos);
      }
    }
    out[pos++] = CLOSE_OBJECT;
    return { pos, next: i + 1 };
  }

  /** Recognises the key between `start` and `end`, expecting the key seen in this slot before. */
  private key(body: Buffer, start: number, end: number, slot: number): KeyInfo | undefined {
    const expected = this.order[slot];
    if (expected && sameBytes(expected.api, body, start, end)) return expected;
    const name = body.toString('latin1', start, end);
    // Escapes or non-ASCII in keys are legal but never used by the API: the object path copes.
    if (name.indexOf('\\') >= 0 || /[^\x20-\x7e]/.test(name)) return undefined;
    let info = this.byName.get(name);
    if (!info) {
      const snake = snakeCase(name);
      info = {
        api: Buffer.from(name, 'latin1'),
        prefix: snake === name ? undefined : Buffer.from(`${JSON.stringify(snake)}:`),
        schemaIndex: this.schemaIndex.get(snake) ?? -1,
      };
      this.byName.set(name, info);
    }
    this.order[slot] = info;
    return info;
  }

  /** Index of the `[` of the top-level "results" array, or -1. */
  private findResults(body: Buffer): number {
    let i = skipSpace(body, 0);
    if (body[i] !== OPEN_OBJECT) return -1;
    i++;
    const n = body.length;
    while (i < n) {
      i = skipSpace(body, i);
      const c = body[i];
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c !== QUOTE) return -1;
      const keyEnd = skipString(body, i);
      if (keyEnd < 0) return -1;
      const isResults =
        keyEnd - i === 9 && body.toString('latin1', i + 1, keyEnd - 1) === 'results';
      i = skipSpace(body, keyEnd);
      if (body[i] !== COLON) return -1;
      i = skipSpace(body, i + 1);
      if (isResults) return body[i] === OPEN_ARRAY ? i : -1;
      i = skipValue(body, i);
      if (i < 0) return -1;
    }
    return -1;
  }
}

/** Copies src[start, end) to dst at pos; returns the new pos. Short runs skip Buffer#copy's overhead. */
function copy(src: Buffer, start: number, end: number, dst: Buffer, pos: number): number {
  if (end - start > 64) return pos + src.copy(dst, pos, start, end);
  for (let j = start; j < end; j++) dst[pos++] = src[j];
  return pos;
}

function sameBytes(expected: Buffer, body: Buffer, start: number, end: number): boolean {
  const len = expected.length;
  if (end - start !== len) return false;
  for (let j = 0; j < len; j++) if (expected[j] !== body[start + j]) return false;
  return true;
}

function skipSpace(body: Buffer, i: number): number {
  const n = body.length;
  while (i < n && isSpace(body[i])) i++;
  return i;
}

/**
 * Index just after the string starting at `i` (its opening quote), or -1. A byte loop: values and
 * keys are short, and a native indexOf per string costs more in call overhead than it saves.
 */
function skipString(body: Buffer, i: number): number {
  const n = body.length;
  for (let j = i + 1; j < n; j++) {
    const c = body[j];
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) j++;
  }
  return -1;
}

/** Index just after the JSON value starting at `i`, or -1. */
function skipValue(body: Buffer, i: number): number {
  const c = body[i];
  if (c === QUOTE) return skipString(body, i);
  const n = body.length;
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 0;
    for (let j = i; j < n; j++) {
      const d = body[j];
      if (d === QUOTE) {
        const after = skipString(body, j);
        if (after < 0) return -1;
        j = after - 1;
      } else if (d === OPEN_OBJECT || d === OPEN_ARRAY) {
        depth++;
      } else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let j = i;
  while (j < n) {
    const d = body[j];
    if (d === COMMA || d === CLOSE_OBJECT || d === CLOSE_ARRAY || isSpace(d)) break;
    j++;
  }
  return j > i ? j : -1;
}
