export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) =>
  new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, ms));
  });

/** One request's place in the budget. */
export interface Ticket {
  /** When the request was allowed out (the budget's clock). */
  readonly sentMs: number;
  /** Call once its answer (or its failure) has arrived; later calls do nothing. */
  answered(): void;
}

export interface RequestBudgetOptions {
  /** The span the limit counts over. Orchestra's is a minute. */
  windowMs?: number;
  /** Added to each request's hold: covers a server clock that runs slightly faster than ours. */
  marginMs?: number;
  nowMs?: () => number;
  wait?: Sleep;
}

/**
 * Client-side request budget: never more than `perMinute` requests in any window of `windowMs`,
 * as the server could count them.
 *
 * Orchestra does not document its limiter (fixed minute, sliding minute or token bucket). Each
 * request holds a slot from the moment it is sent until `windowMs` (plus `marginMs`) after its
 * answer arrived, and at most `perMinute` slots are held. The server counts a request at some instant between those two
 * moments, so for any request the server sees, the `perMinute` requests it saw in the minute
 * before it all still held their slots when it was sent: no window, sliding or fixed, can hold more
 * than `perMinute` of them. A token bucket of `perMinute` per minute with room for `perMinute` is
 * satisfied too.
 *
 * Within that bound requests go out as soon as a slot is free, so a sync uses the whole limit.
 * A 429 means the server counts differently (a shared key, a token bucket with a small burst, or a
 * sliding-window *counter* that assumes the last minute's requests were spread evenly): requests
 * wait out its Retry-After, then go out evenly spaced at 90% of the budget's rate, 10% less again
 * after each 429 to a request sent after the last slowdown, for the rest of the sync. Waiters are
 * served in arrival order.
 */
export class RequestBudget {
  readonly capacity: number;
  private readonly windowMs: number;
  private readonly marginMs: number;
  private readonly nowMs: () => number;
  private readonly wait: Sleep;
  private queue: Promise<void> = Promise.resolve();
  private inFlight = 0;
  /** When each answered request frees its slot; nondecreasing, consumed from `head`. */
  private releases: number[] = [];
  private head = 0;
  private onRelease: (() => void)[] = [];
  private held: Promise<unknown> = Promise.resolve();
  /** Requests per window once a 429 has been seen; sends are spaced evenly at that rate. */
  private pacedRate: number;
  private spacingMs = 0;
  /** When the rate was last lowered: 429s to requests sent before then say nothing new. */
  private slowedAtMs = -Infinity;
  private lastSentMs = -Infinity;

  constructor(perMinute: number, options: RequestBudgetOptions = {}) {
    if (!Number.isFinite(perMinute) || perMinute < 1) {
      throw new RangeError(`requests per minute must be at least 1, got ${perMinute}`);
    }
    this.capacity = Math.floor(perMinute);
    this.pacedRate = this.capacity;
    this.windowMs = options.windowMs ?? 60_000;
    this.marginMs = options.marginMs ?? 100;
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.wait = options.wait ?? sleep;
  }

  /** Slots held now: requests in flight plus answered ones still inside their window. */
  get used(): number {
    this.prune(this.nowMs());
    return this.inFlight + this.releases.length - this.head;
  }

  /** Resolves when one request may be sent. */
  take(): Promise<Ticket> {
    const turn = this.queue.then(() => this.acquire());
    this.queue = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  /**
   * The server answered 429 to `ticket`'s request: send nothing until `pause` settles (the
   * Retry-After wait), then spread requests evenly, 10% slower than before, instead of as fast as
   * the window allows. Requests that were already in flight at the last slowdown do not slow it
   * down again: their 429s come from the rate that has just been lowered.
   */
  rateLimited(pause: Promise<unknown>, ticket: Ticket): void {
    const previous = this.held;
    const settled = pause.then(
      () => undefined,
      () => undefined,
    );
    this.held = Promise.all([previous, settled]);
    if (ticket.sentMs <= this.slowedAtMs) return;
    this.slowedAtMs = this.nowMs();
    this.pacedRate = Math.max(1, this.pacedRate * 0.9);
    this.spacingMs = this.windowMs / this.pacedRate;
  }

  private prune(now: number): void {
    while (this.head < this.releases.length && this.releases[this.head] <= now) this.head++;
    if (this.head > 1024 && this.head * 2 > this.releases.length) {
      this.releases = this.releases.slice(this.head);
      this.head = 0;
    }
  }

  private async acquire(): Promise<Ticket> {
    for (;;) {
      const held = this.held;
      await held;
      if (held !== this.held) continue; // another 429 arrived meanwhile
      const now = this.nowMs();
      this.prune(now);
      const pending = this.releases.length - this.head;
      if (this.inFlight + pending < this.capacity) {
        const spacedAt = this.lastSentMs + this.spacingMs;
        if (now < spacedAt) {
          await this.wait(Math.max(1, Math.ceil(spacedAt - now)));
          continue;
        }
        return this.send(now);
      }
      if (pending > 0) {
        // Timers may fire a fraction of a millisecond early: the loop checks again.
        await this.wait(Math.max(1, Math.ceil(this.releases[this.head] - now)));
      } else {
        // Every slot is in flight: the first answer starts the earliest window to wait for.
        await new Promise<void>((resolve) => this.onRelease.push(resolve));
      }
    }
  }

  private send(now: number): Ticket {
    this.inFlight++;
    this.lastSentMs = now;
    let released = false;
    return {
      sentMs: now,
      answered: () => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.releases.push(this.nowMs() + this.windowMs + this.marginMs);
        for (const wake of this.onRelease.splice(0)) wake();
      },
    };
  }
}
