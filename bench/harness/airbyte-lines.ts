/**
 * Counts Airbyte messages on a connector's stdout as it streams by, without parsing every record:
 * at 50k records/s a JSON.parse per line would cost the benchmark more CPU than the connector spends
 * writing them, and on a 2-core machine that would slow the thing being measured.
 */
import { StringDecoder } from 'node:string_decoder';

const RECORD_TAG = '"type":"RECORD"';
/** Bytes of each line kept to classify it: enough for the type and the stream name. */
const HEAD_BYTES = 256;
/** Non-record lines (STATE, TRACE, LOG) are kept whole up to this size for inspection. */
const MAX_KEPT_LINE = 1 << 20;

export interface LineStats {
  records: number;
  recordsByStream: Record<string, number>;
  bytes: number;
  lines: number;
  states: number;
  /** TRACE ERROR messages, as their `error.message` text. */
  traceErrors: string[];
  /** Last STATE message per stream (the parsed `state` object). */
  lastStateByStream: Record<string, unknown>;
  /** Milliseconds (since the counter was created) at which the first and last RECORD arrived. */
  firstRecordMs: number | null;
  lastRecordMs: number | null;
  /** Lines that were not JSON (a protocol violation worth reporting). */
  nonJsonLines: number;
}

export class AirbyteLineCounter {
  readonly stats: LineStats = {
    records: 0,
    recordsByStream: {},
    bytes: 0,
    lines: 0,
    states: 0,
    traceErrors: [],
    lastStateByStream: {},
    firstRecordMs: null,
    lastRecordMs: null,
    nonJsonLines: 0,
  };
  private readonly started = performance.now();
  private head: Buffer[] = [];
  private headLength = 0;
  /** True once the current line is known to be a RECORD: the rest of it is skipped. */
  private skipping = false;

  push(chunk: Buffer): void {
    this.stats.bytes += chunk.length;
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      const end = newline === -1 ? chunk.length : newline;
      if (!this.skipping && end > start) this.keep(chunk.subarray(start, end));
      if (newline === -1) return;
      this.endLine();
      start = newline + 1;
    }
  }

  /** Call once the stream has ended, for a last line without a newline. */
  finish(): LineStats {
    if (this.headLength > 0 || this.skipping) this.endLine();
    return this.stats;
  }

  private keep(part: Buffer): void {
    if (this.headLength < HEAD_BYTES) {
      // Copy only what classification needs until the line is known not to be a RECORD.
      const needed = HEAD_BYTES - this.headLength;
      this.append(part.length > needed ? part.subarray(0, needed) : part);
      if (this.headLength < HEAD_BYTES) return;
      const head = Buffer.concat(this.head).toString('utf8');
      if (head.includes(RECORD_TAG)) {
        this.countRecord(head);
        this.skipping = true;
        return;
      }
      if (part.length > needed) this.append(part.subarray(needed));
      return;
    }
    this.append(part);
  }

  private append(piece: Buffer): void {
    const room = MAX_KEPT_LINE - this.headLength;
    if (room <= 0) return;
    const kept = piece.length > room ? piece.subarray(0, room) : piece;
    this.head.push(Buffer.from(kept));
    this.headLength += kept.length;
  }

  private countRecord(head: string): void {
    const match = /"stream":"([^"]+)"/.exec(head);
    const stream = match ? match[1] : '(unknown)';
    this.stats.records += 1;
    this.stats.recordsByStream[stream] = (this.stats.recordsByStream[stream] ?? 0) + 1;
    const now = performance.now() - this.started;
    this.stats.firstRecordMs ??= now;
    this.stats.lastRecordMs = now;
  }

  private endLine(): void {
    this.stats.lines += 1;
    if (!this.skipping && this.headLength > 0) {
      const text = Buffer.concat(this.head).toString('utf8');
      // A short RECORD line never reached HEAD_BYTES, so it is classified here.
      if (text.slice(0, HEAD_BYTES).includes(RECORD_TAG)) this.countRecord(text);
      else this.inspect(text);
    }
    this.head = [];
    this.headLength = 0;
    this.skipping = false;
  }

  private inspect(text: string): void {
    let message: {
      type?: string;
      state?: { stream?: { stream_descriptor?: { name?: string } } };
      trace?: { type?: string; error?: { message?: string } };
    };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      this.stats.nonJsonLines += 1;
      return;
    }
    if (message.type === 'STATE') {
      this.stats.states += 1;
      const name = message.state?.stream?.stream_descriptor?.name ?? '(global)';
      this.stats.lastStateByStream[name] = message.state;
    } else if (message.type === 'TRACE' && message.trace?.type === 'ERROR') {
      this.stats.traceErrors.push(message.trace.error?.message ?? '(no message)');
    }
  }
}

/**
 * Collects the distinct primary keys per stream by parsing every RECORD line: for the API-economy
 * cases, where the minimum number of requests depends on how many distinct records there were.
 */
export class RecordIdCollector {
  readonly ids: Record<string, Set<string>> = {};
  private rest = '';
  private readonly decoder = new StringDecoder('utf8');

  readonly push = (chunk: Buffer): void => {
    // StringDecoder keeps a multi-byte character split across two chunks whole.
    const text = this.rest + this.decoder.write(chunk);
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  };

  finish(): Record<string, number> {
    if (this.rest) this.line(this.rest);
    this.rest = '';
    return Object.fromEntries(Object.entries(this.ids).map(([name, set]) => [name, set.size]));
  }

  private line(line: string): void {
    if (!line.includes(RECORD_TAG)) return;
    const message = JSON.parse(line) as { record: { stream: string; data: { id?: unknown } } };
    const { stream, data } = message.record;
    (this.ids[stream] ??= new Set()).add(String(data.id));
  }
}
