/**
 * API economy (requests made versus the fewest that could fetch the same records) and behaviour
 * under a rate limit. Requests are counted by a logging proxy between the connector and the
 * simulator, from what crossed the wire.
 */
import * as fs from 'node:fs';

import { RecordIdCollector } from './airbyte-lines';
import { failureOf } from './child';
import { runConnector, stateFrom, STREAMS } from './connector';
import { EconomySummary, startProxy, summarise } from './proxy';
import { startSimulator } from './simulator';
import { BENCH_START } from './throughput';

const PAGE_SIZE = 100;

/** Set BENCH_DUMP_REQUESTS=FILE to save every request the economy case saw, as JSON lines. */
function dump(label: string, entries: unknown[]): void {
  const file = process.env.BENCH_DUMP_REQUESTS;
  if (!file) return;
  fs.appendFileSync(
    file,
    entries.map((e) => JSON.stringify({ sync: label, ...(e as object) })).join('\n') + '\n',
  );
}
const HOUR_MS = 3600_000;

const CURSOR_FIELD: Record<string, string> = {
  pipeline_runs: 'updatedAt',
  task_runs: 'updatedAt',
  operations: 'insertedAt',
};

export interface EconomyRow {
  sync: 'backfill' | 'incremental after 1 simulated hour';
  /** Distinct records the sync had to deliver (backfill: all it emitted; incremental: changed). */
  records: number;
  records_emitted: number;
  requests: number;
  list_requests: number;
  by_id_requests: number;
  windows: number;
  /** ceil(records / 100) + one per window, the definition. */
  minimum: number;
  ratio: number;
  /** The fewest list requests for exactly the windows the connector chose (from each `total`). */
  pages_needed_for_windows: number;
  status_429: number;
  ok: boolean;
  failure: string | null;
}

function row(
  sync: EconomyRow['sync'],
  records: number,
  emitted: number,
  summary: EconomySummary,
  minimumWindows: number,
  failure: string | null,
): EconomyRow {
  const minimum = Math.ceil(records / PAGE_SIZE) + minimumWindows;
  return {
    sync,
    records,
    records_emitted: emitted,
    requests: summary.requests,
    list_requests: summary.listRequests,
    by_id_requests: summary.byIdRequests,
    windows: summary.windows,
    minimum,
    ratio: Math.round((summary.requests / minimum) * 1000) / 1000,
    pages_needed_for_windows: summary.pagesNeededForWindows,
    status_429: summary.status429,
    ok: failure === null,
    failure,
  };
}

function sum(values: Record<string, number>): number {
  return Object.values(values).reduce((a, b) => a + b, 0);
}

export async function economyCase(
  records: number,
  log: (line: string) => void,
): Promise<EconomyRow[]> {
  log(`economy: starting the simulator with ${records} records...`);
  const sim = await startSimulator({
    records,
    scenario: 'calm',
    clock: 'manual',
    start: BENCH_START,
  });
  const proxy = await startProxy(sim.baseUrl);
  const viaProxy = { ...sim, baseUrl: proxy.baseUrl };
  try {
    log('economy: backfill (first incremental sync, default config)...');
    const ids = new RecordIdCollector();
    const backfill = await runConnector(viaProxy, { syncMode: 'incremental', onChunk: ids.push });
    const distinct = ids.finish();
    const backfillSummary = summarise(proxy.log);
    dump('backfill', proxy.log);
    // The issue counts one request per window the connector used on top of the pages.
    const rows = [
      row(
        'backfill',
        sum(distinct),
        backfill.lines.records,
        backfillSummary,
        backfillSummary.windows,
        failureOf(backfill),
      ),
    ];

    const before = Date.parse(await sim.now());
    await sim.advance(HOUR_MS);
    proxy.log.length = 0;
    log('economy: incremental sync after one simulated hour...');
    const incremental = await runConnector(viaProxy, {
      syncMode: 'incremental',
      state: stateFrom(backfill),
    });
    dump('incremental', proxy.log);
    let changed = 0;
    for (const stream of STREAMS) {
      const truth = await sim.control<Record<string, unknown>[]>('GET', `/_sim/truth/${stream}`);
      const field = CURSOR_FIELD[stream];
      changed += truth.filter((r) => Date.parse(String(r[field])) > before).length;
    }
    // The fewest windows for an hour of changes: one per stream.
    rows.push(
      row(
        'incremental after 1 simulated hour',
        changed,
        incremental.lines.records,
        summarise(proxy.log),
        STREAMS.length,
        failureOf(incremental),
      ),
    );
    return rows;
  } finally {
    await proxy.close();
    await sim.stop();
  }
}

export interface RateLimitRow {
  label: string;
  limit_per_minute: number;
  connector_budget_per_minute: number;
  records: number;
  requests: number;
  status_429: number;
  /** The most answered (non-429) requests the proxy saw in any 60 s. */
  busiest_minute: number;
  wall_s: number;
  /** From the first answer to the last one at the proxy: the sync without process start-up. */
  span_s: number;
  /**
   * floor((accepted - 1) / limit) minutes: under a sliding minute the (k * limit + 1)-th request
   * cannot be counted before k minutes after the first, so no client finishes sooner.
   */
  floor_s: number;
  ratio: number;
  /** accepted / limit minutes: the steady-rate view, which a burst at the start beats. */
  steady_s: number;
  steady_ratio: number;
  ok: boolean;
  failure: string | null;
}

export interface RateLimitRun {
  label: string;
  limit: number;
  budget: number;
  /** Requests per limit to aim for: above a whole number, so the last minute is short. */
  minutes: number;
}

/** The most entries with a 2xx status inside any 60 s of the proxy's clock. */
function busiestMinute(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[start] <= sorted[end] - 60_000) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

function span(times: number[]): number {
  return times.length ? Math.max(...times) - Math.min(...times) : 0;
}

/** Runs a backfill under a simulated per-minute limit for each run's limit and request budget. */
export async function rateLimitCase(
  runs: RateLimitRun[],
  log: (line: string) => void,
): Promise<RateLimitRow[]> {
  const rows: RateLimitRow[] = [];
  for (const { label, limit, budget, minutes } of runs) {
    // Nearly all requests are full pages; each of the ~22 windows adds about one more.
    const records = Math.round(limit * minutes * PAGE_SIZE * 0.9);
    log(
      `rate limit (${label}): ${limit}/min on the simulator, connector budget ${budget}/min, ${records} records...`,
    );
    const sim = await startSimulator({
      records,
      scenario: 'calm',
      clock: 'manual',
      start: BENCH_START,
      rateLimit: limit,
    });
    const proxy = await startProxy(sim.baseUrl);
    try {
      const run = await runConnector(
        { ...sim, baseUrl: proxy.baseUrl },
        { syncMode: 'incremental', config: { requests_per_minute: budget } },
      );
      const summary = summarise(proxy.log);
      const accepted = summary.requests - summary.status429;
      const floorS = Math.floor((accepted - 1) / limit) * 60;
      const steadyS = (accepted / limit) * 60;
      const wall = run.wallMs / 1000;
      const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
      rows.push({
        label,
        limit_per_minute: limit,
        connector_budget_per_minute: budget,
        records: run.lines.records,
        requests: summary.requests,
        status_429: summary.status429,
        busiest_minute: busiestMinute(
          proxy.log.filter((e) => e.status >= 200 && e.status < 300).map((e) => e.atMs),
        ),
        wall_s: round(wall, 1),
        span_s: round(span(proxy.log.map((e) => e.atMs)) / 1000, 1),
        floor_s: floorS,
        ratio: floorS > 0 ? round(wall / floorS, 3) : NaN,
        steady_s: round(steadyS, 1),
        steady_ratio: round(wall / steadyS, 2),
        ok: failureOf(run) === null,
        failure: failureOf(run),
      });
      log(`  ${summary.requests} requests, ${summary.status429} x 429, ${wall.toFixed(1)} s`);
    } finally {
      await proxy.close();
      await sim.stop();
    }
  }
  return rows;
}
