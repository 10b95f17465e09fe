import { Log, OrchestraClient, Page, QueryParams } from '../client/client';
import { Clock } from '../clock';
import { TransientError } from '../errors';
import { lastTotal, newPassReport, PassReport, readPages, totalsStable } from './pages';
import { hash52, HashTable } from './idtable';
import { RecordEncoder } from './records';
import { Framing } from './transcode';
import { StreamDefinition } from './registry';
import {
  formatSlice,
  HOUR_MS,
  parseCursor,
  planSync,
  retentionStart,
  splitSlice,
  Slice,
  slices,
} from './slices';

/**
 * Per-stream state, as stored by Airbyte (README "Incremental state"). `cursor_field` names the
 * record field the cursor stands for, the way Airbyte's acceptance tests find a `cursor` value; it
 * is written, never needed on input.
 */
export interface StreamState {
  cursor: string;
  cursor_field?: string[];
  open_ids: string[];
}

export type EngineEvent =
  /** One page's records, deduplicated, as stream-record JSON framed by `framing`. */
  | { type: 'records'; count: number; bytes: Buffer }
  | { type: 'state'; state: StreamState }
  | { type: 'estimate'; rows: number };

export interface EngineOptions {
  definition: StreamDefinition;
  schemaProperties: readonly string[];
  client: OrchestraClient;
  clock: Clock;
  log: Log;
  incremental: boolean;
  state?: Partial<StreamState>;
  startDate?: Date;
  lookbackWindowMs: number;
  sliceMs: number;
  pageSize: number;
  pagesInFlight: number;
  /** Stream filters from the config, as API query parameters. */
  filters: QueryParams;
  /** Extra query parameters for re-fetches by id (e.g. include superseded attempts). */
  refetchParams?: QueryParams;
  /** Bytes around each record, asked for once per page (default: NUL-separated records). */
  framing?: () => Framing;
}

/** NUL cannot appear in JSON text, so it safely separates records for in-process readers. */
export const SEPARATED: Framing = { head: Buffer.alloc(0), tail: Buffer.from([0]) };

/** Passes over one window before it is split in two. */
const PASSES_BEFORE_SPLIT = 2;
/** A window is not split below this: equal timestamps cannot be separated by time anyway. */
const MIN_SPLIT_MS = 1000;
const MAX_SPLIT_DEPTH = 24;
/** Ids per re-fetch request: well inside a page and a URL. */
export const REFETCH_CHUNK = 50;
/** Windows with more records are split before reading, bounding per-window memory. */
const MAX_SLICE_RECORDS = 20_000;

/**
 * The one incremental algorithm behind all three streams (docs/sync-algorithm.md): slices (time
 * windows) of at most `sliceMs` from `cursor - lookback` to `now - safety lag`, every page of each read until
 * a pass is consistent, a STATE after each completed window, then a re-fetch by id of the runs last
 * seen unfinished. Records are yielded page by page; nothing of a stream is buffered.
 */
export class StreamEngine {
  private readonly encoder: RecordEncoder;
  private readonly open: Set<string>;
  /** Open ids from the saved state not yet seen again in this sync: re-fetched at the end. */
  private readonly toRefetch: Set<string>;
  private readonly openStatuses: Set<string>;
  private emitted = 0;
  private cursor?: Date;
  private lastState?: string;

  constructor(private readonly o: EngineOptions) {
    this.encoder = new RecordEncoder(o.definition, o.schemaProperties);
    const saved = o.incremental && Array.isArray(o.state?.open_ids) ? o.state.open_ids : [];
    // Without an id filter a run cannot be followed: ids saved for such a stream are dropped.
    const ids = o.definition.id_filter
      ? saved.filter((id): id is string => typeof id === 'string')
      : [];
    this.open = new Set(ids);
    this.toRefetch = new Set(ids);
    this.openStatuses = new Set(o.definition.open_statuses);
    this.cursor = o.incremental ? parseCursor(o.state?.cursor) : undefined;
  }

  get recordsEmitted(): number {
    return this.emitted;
  }

  async *run(): AsyncGenerator<EngineEvent> {
    const { definition, log } = this.o;
    const now = wholeSecond(this.o.clock.now());
    const plan = planSync({
      now,
      cursor: this.cursor,
      startDate: this.o.startDate,
      lookbackWindowMs: this.o.incremental ? this.o.lookbackWindowMs : 0,
    });
    if (plan.hoursLost !== undefined) {
      log.warn(
        `${definition.name}: the saved cursor ${this.cursor?.toISOString()} is older than the ` +
          `${RETENTION_DAYS} days of history the API keeps: ${plan.hoursLost.toFixed(1)} hours of ` +
          `${definition.name} (up to ${plan.retentionStart.toISOString()}) are lost for good. ` +
          'Sync at least daily to avoid gaps.',
      );
    }
    if (plan.startClamped) {
      log.info(
        `${definition.name}: start_date is older than the API's retention; reading from ` +
          `${plan.retentionStart.toISOString()}, the oldest data it serves`,
      );
    }
    if (plan.cursorInFuture) {
      log.warn(
        `${definition.name}: the saved cursor ${this.cursor?.toISOString()} is ahead of the ` +
          `server's clock (${now.toISOString()}); nothing new to read until then`,
      );
    }
    for (const window of slices(plan.from, plan.to, this.o.sliceMs)) {
      const before = this.emitted;
      yield* this.readSlice(window, new HashTable(), 0);
      log.info(
        `${definition.name}: read ${formatSlice(window)}: ${this.emitted - before} records ` +
          `(${this.emitted} so far)`,
      );
      if (!this.cursor || window.to > this.cursor) this.cursor = window.to;
      if (this.o.incremental) yield* this.checkpoint();
    }
    // Even with nothing to read, Airbyte expects a state: the cursor is where reading will resume.
    this.cursor ??= plan.from;
    if (this.o.incremental && this.toRefetch.size > 0) {
      yield* this.refetchOpen();
    }
    // A full refresh ends with one state too, as Airbyte's Python CDK does: a stream that can run
    // incrementally gives its real cursor and open runs, so a switch to incremental resumes there.
    // A full refresh never reads a state, so it still re-reads everything every time.
    yield* this.checkpoint();
  }

  /** A STATE event, unless it would repeat the previous one. */
  private *checkpoint(): Generator<EngineEvent> {
    const state = {
      cursor: (this.cursor as Date).toISOString(),
      cursor_field: [this.o.definition.cursor_field],
      open_ids: [...this.open].sort(),
    };
    const json = JSON.stringify(state);
    if (json === this.lastState) return;
    this.lastState = json;
    yield { type: 'state', state };
  }

  /** Reads a window until one pass sees it whole; splits it when its pages keep shifting. */
  private async *readSlice(
    window: Slice,
    seen: HashTable,
    depth: number,
  ): AsyncGenerator<EngineEvent> {
    const label = `${this.o.definition.name} ${formatSlice(window)}`;
    let previous: { ids: HashTable; total: number; clean: boolean } | undefined;
    for (let pass = 1; pass <= PASSES_BEFORE_SPLIT; pass++) {
      const report = newPassReport();
      const ids = new HashTable(1024);
      const params = {
        ...this.o.filters,
        time_from: window.from.toISOString(),
        time_to: window.to.toISOString(),
      };
      const fetch = (page: number): Promise<Page> =>
        this.o.client.getPage(
          this.o.definition.path,
          { ...params, page, page_size: this.o.pageSize },
          { path: this.o.definition.path, page, detail: `window ${formatSlice(window)}` },
        );
      let first = true;
      let oversized = false;
      for await (const page of readPages(fetch, this.pageOptions(label), report)) {
        if (first && pass === 1) {
          first = false;
          if (depth === 0) yield { type: 'estimate', rows: this.emitted + page.total };
          // Busy windows are read as smaller ones: the per-window dedupe memory stays bounded and
          // a shorter read leaves less time for pages to shift. Only this one page is wasted.
          if (page.total > MAX_SLICE_RECORDS && this.splittable(window, depth)) {
            oversized = true;
            break;
          }
        }
        const event = this.collect(page, seen, ids);
        if (event) yield event;
      }
      if (oversized) {
        this.o.log.debug(`${label}: ${lastTotal(report)} records, reading it in two halves`);
        for (const half of splitSlice(window))
          yield* this.readSlice(half, new HashTable(), depth + 1);
        return;
      }
      const total = lastTotal(report);
      const distinct = ids.size;
      if (!report.cutShort && totalsStable(report) && distinct >= total) return;
      // Two identical passes without a record served twice: the API simply serves fewer records
      // than its `total` says (e.g. it counts hidden rows). Splitting would not change that.
      const clean = report.records === distinct && totalsStable(report);
      if (previous?.clean && clean && previous.total === total && distinct < total) {
        if (previous.ids.sameKeys(ids)) {
          this.o.log.warn(
            `${label}: the API reports ${total} records but consistently serves ${distinct}; ` +
              'continuing with what it serves',
          );
          return;
        }
      }
      this.o.log.info(
        `${label}: pass ${pass} was not consistent (${describe(report, distinct)}); ` +
          (pass < PASSES_BEFORE_SPLIT ? 'reading the window again' : 'splitting it'),
      );
      previous = { ids, total, clean };
    }
    if (!this.splittable(window, depth)) {
      // Data kept changing under the pages; a later attempt sees a calmer window.
      throw new TransientError(
        `${label}: could not read a consistent copy of this window (pages kept shifting while ` +
          'data changed). Run the sync again; it resumes from the last completed window.',
      );
    }
    for (const half of splitSlice(window)) {
      yield* this.readSlice(half, new HashTable(), depth + 1);
    }
  }

  private splittable(window: Slice, depth: number): boolean {
    return window.to.getTime() - window.from.getTime() > MIN_SPLIT_MS && depth < MAX_SPLIT_DEPTH;
  }

  private pageOptions(label: string, pageSize = this.o.pageSize) {
    return {
      pageSize,
      pagesInFlight: this.o.pagesInFlight,
      log: this.o.log,
      label,
    };
  }

  /**
   * Picks a page's records to emit and encodes them. Within a window, a record already emitted in
   * the same version (cursor value and status) is skipped; newer versions go out again. With
   * `only`, records whose id is not in it are ignored (an API that ignores an id filter must not
   * flood the stream).
   */
  private collect(
    page: Page,
    seen: HashTable | undefined,
    ids: HashTable | undefined,
    only?: Set<string>,
  ): EngineEvent | undefined {
    const encoder = this.encoder;
    const keep: number[] = [];
    const results = page.results;
    for (let i = 0; i < results.length; i++) {
      const raw = results[i];
      const id = raw.id as string;
      if (only && !only.has(id)) continue;
      const key = hash52(id);
      ids?.add(key);
      const status = encoder.status(raw);
      if (seen) {
        // A version is (cursor time, status): a record already emitted in this or a newer
        // version within the window is skipped; overlapping pages repeat records.
        const cursor = String(encoder.cursor(raw));
        const at = Date.parse(cursor);
        const version = hash52(`${cursor}|${String(status)}`);
        const before = seen.get(key);
        if (before && (at < before[0] || version === before[1])) continue;
        seen.add(key, at, version);
      }
      this.track(id, status);
      keep.push(i);
    }
    if (keep.length === 0) return undefined;
    this.emitted += keep.length;
    const framing = this.o.framing?.() ?? SEPARATED;
    return { type: 'records', count: keep.length, bytes: encoder.encode(page, keep, framing) };
  }

  private track(id: string, status: unknown): void {
    this.toRefetch.delete(id);
    if (typeof status === 'string' && this.openStatuses.has(status)) this.open.add(id);
    else this.open.delete(id);
  }

  /** Re-fetches runs last seen unfinished, by id, over the whole retention window. */
  private async *refetchOpen(): AsyncGenerator<EngineEvent> {
    const { definition, log } = this.o;
    if (!definition.id_filter) {
      this.toRefetch.clear();
      return;
    }
    const now = wholeSecond(this.o.clock.now());
    const ids = [...this.toRefetch].sort();
    log.info(`${definition.name}: re-fetching ${ids.length} runs last seen unfinished`);
    for (let i = 0; i < ids.length; i += REFETCH_CHUNK) {
      const chunk = ids.slice(i, i + REFETCH_CHUNK);
      const params: QueryParams = {
        ...this.o.filters,
        ...this.o.refetchParams,
        [definition.id_filter]: chunk.join(','),
        time_from: retentionStart(now).toISOString(),
        time_to: now.toISOString(),
      };
      const detail = `re-fetch of ${chunk.length} unfinished runs`;
      // One page holds the whole chunk when the API allows it (it serves at most 100).
      const pageSize = Math.max(this.o.pageSize, Math.min(100, chunk.length));
      const fetch = (page: number): Promise<Page> =>
        this.o.client.getPage(
          definition.path,
          { ...params, page, page_size: pageSize },
          { path: definition.path, page, detail },
        );
      const returned = new HashTable(chunk.length);
      const report = newPassReport();
      const asked = new Set(chunk);
      for await (const page of readPages(
        fetch,
        this.pageOptions(`${definition.name} ${detail}`, pageSize),
        report,
      )) {
        // Only the ids asked for: an API that ignores the filter must not flood the stream.
        const event = this.collect(page, undefined, returned, asked);
        if (event) yield event;
      }
      for (const id of chunk) {
        if (!returned.has(hash52(id))) {
          // Not served any more: aged out of retention or filtered out. Nothing left to follow.
          this.open.delete(id);
          this.toRefetch.delete(id);
        }
      }
    }
  }
}

const RETENTION_DAYS = 7;

/**
 * The server's Date header has whole seconds; planning on whole seconds keeps window bounds and
 * cursors reproducible (the same sync against the same server time gives the same output).
 */
function wholeSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function describe(report: PassReport, distinct: number): string {
  const totals = [...new Set(report.totals)].join(' -> ');
  return `total ${totals}, ${distinct} distinct records${report.cutShort ? ', a page came back short' : ''}`;
}

export { HOUR_MS };
