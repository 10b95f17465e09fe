export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) =>
  new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, ms));
  });

/**
 * Client-side request budget: a token bucket refilled at `perMinute` tokens per minute. A burst of
 * at most ten seconds' worth keeps a shared workspace key under the API's per-minute limit even
 * when several pages are in flight. Waiters are served in arrival order.
 */
export class RequestBudget {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  readonly capacity: number;
  private readonly perMs: number;

  constructor(
    perMinute: number,
    private readonly nowMs: () => number = () => performance.now(),
    private readonly wait: Sleep = sleep,
  ) {
    this.perMs = perMinute / 60_000;
    this.capacity = Math.max(1, Math.ceil(perMinute / 6));
    this.tokens = this.capacity;
    this.last = this.nowMs();
  }

  /** Resolves when one request may be sent. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.acquire());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private refill(): void {
    const now = this.nowMs();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
  }

  private async acquire(): Promise<void> {
    this.refill();
    while (this.tokens < 1) {
      await this.wait((1 - this.tokens) / this.perMs);
      this.refill();
    }
    this.tokens -= 1;
  }
}
