import { ApiRecord, Log, OrchestraClient, Page, QueryParams } from '../client/client';
import { Clock } from '../clock';
import { SystemError } from '../errors';
import { Normaliser, NormalisedRecord } from './normalise';
import { lastTotal, newPassReport, PassReport, readPages, totalsStable } from './pages';
import { StreamDefinition } from './registry';
import {
  formatWindow,
  HOUR_MS,
  parseCursor,
  planSync,
  retentionStart,
  splitWindow,
  Window,
  windows,
} from './windows';

/** Per-stream incremental state, as stored by Airbyte (see COMMON.md). */
export interface StreamState {
  cursor: string;
  open_ids: string[];
}

export type EngineEvent =
  /** One page's records, normalised and deduplicated; yielded per page to keep overhead low. */
  | { type: 'records'; records: NormalisedRecord[] }
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
  lookbackMs: number;
  windowMs: number;
  pageSize: number;
  pagesInFlight: number;
  /** Stream filters from the config, as API query parameters. */
  filters: QueryParams;
  /** Extra query parameters for re-fetches by id (e.g. include superseded attempts). */
  refetchParams?: QueryParams;
}

/** Passes over one window before it is split in two. */
const PASSES_BEFORE_SPLIT = 2;
/** A window is not split below this: equal timestamps cannot be separated by time anyway. */
const MIN_SPLIT_MS = 1000;
const MAX_SPLIT_DEPTH = 24;
/** Ids per re-fetch request: well inside a page and a URL. */
export const REFETCH_CHUNK = 50;
/** Dedupe memory per window is capped; beyond it duplicates pass through (upserts absorb them). */
const DEDUPE_LIMIT = 250_000;

/**
 * The one incremental algorithm behind all three streams (DESIGN.md): windows of at most
 * `windowMs` from `cursor - lookback` to `now - safety lag`, every page of each window read until
 * a pass is consistent, a STATE after each completed window, then a re-fetch by id of the runs last
 * seen unfinished. Records are yielded page by page; nothing of a stream is buffered.
 */
export class StreamEngine {
  private readonly normaliser: Normaliser;
  private readonly open: Set<string>;
  /** Open ids from the saved state not yet seen again in this sync: re-fetched at the end. */
  private readonly toRefetch: Set<string>;
  private readonly openStatuses: Set<string>;
  private emitted = 0;
  private cursor?: Date;
  private lastState?: string;

  constructor(private readonly o: EngineOptions) {
    this.normaliser = new Normaliser(o.schemaProperties);
    const saved = o.incremental && Array.isArray(o.state?.open_ids) ? o.state.open_ids : [];
    const ids = saved.filter((id): id is string => typeof id === 'string');
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
      lookbackMs: this.o.incremental ? this.o.lookbackMs : 0,
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
    for (const window of windows(plan.from, plan.to, this.o.windowMs)) {
      const before = this.emitted;
      yield* this.readWindow(window, new Map(), 0);
      log.info(
        `${definition.name}: read ${formatWindow(window)}: ${this.emitted - before} records ` +
          `(${this.emitted} so far)`,
      );
      if (!this.cursor || window.to > this.cursor) this.cursor = window.to;
      if (this.o.incremental) yield* this.checkpoint();
    }
    if (!this.o.incremental) return;
    // Even with nothing to read, Airbyte expects a state: the cursor is where reading will resume.
    this.cursor ??= plan.from;
    if (this.toRefetch.size > 0) {
      yield* this.refetchOpen();
    }
    yield* this.checkpoint();
  }

  /** A STATE event, unless it would repeat the previous one. */
  private *checkpoint(): Generator<EngineEvent> {
    const state = { cursor: (this.cursor as Date).toISOString(), open_ids: [...this.open].sort() };
    const json = JSON.stringify(state);
    if (json === this.lastState) return;
    this.lastState = json;
    yield { type: 'state', state };
  }

  /** Reads a window until one pass sees it whole; splits it when its pages keep shifting. */
  private async *readWindow(
    window: Window,
    seen: Map<string, string>,
    depth: number,
  ): AsyncGenerator<EngineEvent> {
    const label = `${this.o.definition.name} ${formatWindow(window)}`;
    let previous: { ids: Set<string>; total: number } | undefined;
    for (let pass = 1; pass <= PASSES_BEFORE_SPLIT; pass++) {
      const report = newPassReport();
      const ids = new Set<string>();
      const params = {
        ...this.o.filters,
        time_from: window.from.toISOString(),
        time_to: window.to.toISOString(),
      };
      const fetch = (page: number): Promise<Page> =>
        this.o.client.getPage(
          this.o.definition.path,
          { ...params, page, page_size: this.o.pageSize },
          { path: this.o.definition.path, page, detail: `window ${formatWindow(window)}` },
        );
      let first = true;
      for await (const page of readPages(fetch, this.pageOptions(label), report)) {
        if (first && pass === 1 && depth === 0) {
          first = false;
          yield { type: 'estimate', rows: this.emitted + page.total };
        }
        const records = this.collect(page.results, seen, ids);
        if (records.length > 0) yield { type: 'records', records };
      }
      const total = lastTotal(report);
      const distinct = ids.size;
      if (!report.cutShort && totalsStable(report) && distinct >= total) return;
      // Two identical passes without a record served twice: the API simply serves fewer records
      // than its `total` says (e.g. it counts hidden rows). Splitting would not change that.
      const repeated = report.records > distinct;
      if (previous && !repeated && totalsStable(report) && previous.total === total) {
        if (sameIds(previous.ids, ids)) {
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
      previous = { ids, total };
    }
    const span = window.to.getTime() - window.from.getTime();
    if (span <= MIN_SPLIT_MS || depth >= MAX_SPLIT_DEPTH) {
      throw new SystemError(
        `${label}: could not read a consistent copy of this window (pages kept shifting while ` +
          'data changed). Run the sync again; it resumes from the last completed window.',
      );
    }
    for (const half of splitWindow(window)) {
      yield* this.readWindow(half, seen, depth + 1);
    }
  }

  private pageOptions(label: string) {
    return {
      pageSize: this.o.pageSize,
      pagesInFlight: this.o.pagesInFlight,
      log: this.o.log,
      label,
    };
  }

  /**
   * Normalises a page's records. Within a window, a record already emitted in the same version
   * (cursor value and status) is skipped; newer versions go out again.
   */
  private collect(
    results: ApiRecord[],
    seen: Map<string, string> | undefined,
    ids: Set<string> | undefined,
  ): NormalisedRecord[] {
    const { cursor_field: cursorField, status_field: statusField } = this.o.definition;
    const out: NormalisedRecord[] = [];
    for (const raw of results) {
      const record = this.normaliser.normalise(raw);
      const id = record.id as string;
      ids?.add(id);
      const status = record[statusField];
      if (seen) {
        const version = `${String(record[cursorField])}|${String(status)}`;
        const before = seen.get(id);
        if (before !== undefined && (before === version || isOlder(version, before))) continue;
        if (before !== undefined || seen.size < DEDUPE_LIMIT) seen.set(id, version);
      }
      this.track(id, status);
      this.emitted++;
      out.push(record);
    }
    return out;
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
    const ids = [...this.toRefetch];
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
      const fetch = (page: number): Promise<Page> =>
        this.o.client.getPage(
          definition.path,
          { ...params, page, page_size: Math.max(this.o.pageSize, Math.min(100, chunk.length)) },
          { path: definition.path, page, detail },
        );
      const returned = new Set<string>();
      const report = newPassReport();
      for await (const page of readPages(
        fetch,
        this.pageOptions(`${definition.name} ${detail}`),
        report,
      )) {
        // Only the ids asked for: an API that ignores the filter must not flood the stream.
        const wanted = page.results.filter((r) => this.toRefetch.has(r.id as string));
        const records = this.collect(wanted, undefined, returned);
        if (records.length > 0) yield { type: 'records', records };
      }
      for (const id of chunk) {
        if (!returned.has(id)) {
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

function isOlder(version: string, than: string): boolean {
  const a = Date.parse(version.slice(0, version.indexOf('|')));
  const b = Date.parse(than.slice(0, than.indexOf('|')));
  return !Number.isNaN(a) && !Number.isNaN(b) && a < b;
}

function sameIds(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const id of a) if (!b.has(id)) return false;
  return true;
}

function describe(report: PassReport, distinct: number): string {
  const totals = [...new Set(report.totals)].join(' -> ');
  return `total ${totals}, ${distinct} distinct records${report.cutShort ? ', a page came back short' : ''}`;
}

export { HOUR_MS };
