/** "Now" for the connector. One interface so tests and production share every code path. */
export interface Clock {
  now(): Date;
}

/**
 * The server's clock as last seen in an HTTP `Date` header, advanced by local monotonic time since.
 * The API filters windows by server time, so a client clock that is off would skip or re-read data;
 * against the simulator's manual clock this makes a subprocess live in simulated time.
 */
export class ServerClock implements Clock {
  private serverMs?: number;
  private observedAt = 0;

  constructor(
    private readonly localNow: () => number = Date.now,
    private readonly monotonicMs: () => number = () => performance.now(),
  ) {}

  /** Records the `Date` header of a response; absent or unparsable headers are ignored. */
  observe(dateHeader: string | undefined | null): void {
    if (!dateHeader) return;
    const ms = Date.parse(dateHeader);
    if (Number.isNaN(ms)) return;
    this.serverMs = ms;
    this.observedAt = this.monotonicMs();
  }

  get synced(): boolean {
    return this.serverMs !== undefined;
  }

  now(): Date {
    if (this.serverMs === undefined) return new Date(this.localNow());
    return new Date(this.serverMs + (this.monotonicMs() - this.observedAt));
  }
}
