/**
 * The sync plan and its slices: the time arithmetic of the incremental algorithm, kept pure so it is
 * tested on its own. A slice is one time window of the API's `time_from`/`time_to` filter (Airbyte's
 * CDK calls the unit of work between checkpoints a slice); the look-back is the CDK's
 * `lookback_window`. See docs/sync-algorithm.md.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** The API keeps list data for about 7 days. */
export const RETENTION_MS = 7 * DAY_MS;
/** Stay this far inside retention, so the oldest window does not shrink while it is read. */
export const RETENTION_MARGIN_MS = 10 * 60_000;
/** Do not read the last minute: records may still be landing with timestamps in it. */
export const SAFETY_LAG_MS = 60_000;
/**
 * Consecutive windows overlap by 1 ms, so a record stamped exactly on a boundary is inside one of
 * them whether the API's bounds are inclusive or exclusive. Duplicates are harmless; gaps are not.
 */
export const SLICE_OVERLAP_MS = 1;

export interface Slice {
  from: Date;
  to: Date;
}

export interface SyncPlanInput {
  now: Date;
  /** The saved cursor (incremental with state). */
  cursor?: Date;
  startDate?: Date;
  lookbackWindowMs: number;
}

export interface SyncPlan {
  /** Oldest time the API still serves (with a margin). */
  retentionStart: Date;
  /** First and last instant to read; from >= to means nothing to read. */
  from: Date;
  to: Date;
  /** Hours of history lost because the saved cursor is older than the API's retention. */
  hoursLost?: number;
  /** start_date was older than the retention and was moved forward. */
  startClamped?: boolean;
  /** The saved cursor is ahead of the server's now (minus the safety lag). */
  cursorInFuture?: boolean;
}

export function retentionStart(now: Date): Date {
  return new Date(now.getTime() - RETENTION_MS + RETENTION_MARGIN_MS);
}

/** Where a sync starts and ends; see docs/sync-algorithm.md, step 1. */
export function planSync(input: SyncPlanInput): SyncPlan {
  const oldest = retentionStart(input.now);
  const to = new Date(input.now.getTime() - SAFETY_LAG_MS);
  if (input.cursor) {
    const cursor = input.cursor;
    if (cursor.getTime() >= to.getTime()) {
      return { retentionStart: oldest, from: cursor, to, cursorInFuture: cursor > to };
    }
    let from = new Date(cursor.getTime() - input.lookbackWindowMs);
    let hoursLost: number | undefined;
    if (cursor < oldest) hoursLost = (oldest.getTime() - cursor.getTime()) / HOUR_MS;
    if (from < oldest) from = oldest;
    return { retentionStart: oldest, from, to, hoursLost };
  }
  let from = input.startDate ?? oldest;
  let startClamped = false;
  if (from < oldest) {
    startClamped = input.startDate !== undefined;
    from = oldest;
  }
  return { retentionStart: oldest, from, to, startClamped };
}

/** Splits [from, to] into windows of at most sizeMs, each overlapping the previous by 1 ms. */
export function* slices(from: Date, to: Date, sizeMs: number): Generator<Slice> {
  let start = from.getTime();
  const end = to.getTime();
  while (start < end) {
    const stop = Math.min(start + sizeMs, end);
    yield { from: new Date(start), to: new Date(stop) };
    if (stop >= end) return;
    start = stop - SLICE_OVERLAP_MS;
  }
}

/** Halves a window (for windows whose pages kept shifting), keeping the 1 ms overlap. */
export function splitSlice(w: Slice): [Slice, Slice] {
  const mid = Math.floor((w.from.getTime() + w.to.getTime()) / 2);
  return [
    { from: w.from, to: new Date(mid) },
    { from: new Date(mid - SLICE_OVERLAP_MS), to: w.to },
  ];
}

export function formatSlice(w: Slice): string {
  return `${w.from.toISOString()} -> ${w.to.toISOString()}`;
}

/** Parses a saved cursor; undefined when it is not a date. */
export function parseCursor(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
