/** The request log and counters. The Authorization header is never recorded. */

export interface RequestLogEntry {
  /** Simulated time of the request (ISO). */
  at: string;
  method: string;
  path: string;
  /** Query parameters as received (decoded). */
  query: Record<string, string>;
  endpoint: string;
  status: number;
  /** Injected fault, if any. */
  fault?: string;
  durationMs: number;
}

export interface Counters {
  total: number;
  /** endpoint -> status -> count ("hang" and "reset" count under their fault name). */
  byEndpoint: Record<string, Record<string, number>>;
  byStatus: Record<string, number>;
  byFault: Record<string, number>;
}

export class Observer {
  readonly log: RequestLogEntry[] = [];
  counters: Counters = Observer.emptyCounters();

  constructor(private readonly maxLog: number) {}

  static emptyCounters(): Counters {
    return { total: 0, byEndpoint: {}, byStatus: {}, byFault: {} };
  }

  record(e: RequestLogEntry): void {
    const c = this.counters;
    c.total++;
    const status = String(e.status);
    const ep = (c.byEndpoint[e.endpoint] ??= {});
    ep[status] = (ep[status] ?? 0) + 1;
    c.byStatus[status] = (c.byStatus[status] ?? 0) + 1;
    if (e.fault) c.byFault[e.fault] = (c.byFault[e.fault] ?? 0) + 1;
    if (this.maxLog <= 0) return;
    this.log.push(e);
    // Trimmed in batches: splicing the head off a long array on every request is O(n) each time.
    if (this.log.length > this.maxLog + 1000) this.log.splice(0, this.log.length - this.maxLog);
  }

  reset(): void {
    this.log.length = 0;
    this.counters = Observer.emptyCounters();
  }
}
