import { RequestBudget, Ticket } from '../../src/client/budget';
import { ClientOptions, Log, OrchestraClient } from '../../src/client/client';
import { ServerClock } from '../../src/clock';
import { startSimulator } from 'orchestra-api-simulator';

const WINDOW = 60_000;

/** Virtual time: `wait` parks a timer, `run` fires timers in order whenever nothing else can move. */
class FakeClock {
  now = 0;
  private timers: { at: number; seq: number; fire: () => void }[] = [];
  private seq = 0;

  readonly nowMs = (): number => this.now;

  readonly wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.timers.push({ at: this.now + Math.max(0, ms), seq: this.seq++, fire: resolve });
    });

  async run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const result = work.finally(() => {
      done = true;
    });
    for (;;) {
      // setImmediate runs after every pending promise callback has settled.
      await new Promise((resolve) => setImmediate(resolve));
      if (done) return result;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) throw new Error('deadlock: nothing left to wait for');
      this.now = Math.max(this.now, next.at);
      next.fire();
    }
  }
}

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The most requests any sliding window of `windowMs` (open at its start, like the API's) holds. */
function maxInWindow(times: number[], windowMs = WINDOW): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[start] <= sorted[end] - windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

interface Simulation {
  sent: number[];
  /** When the server counted each request: a random instant between send and answer. */
  counted: number[];
  elapsed: number;
}

/** `workers` pages in flight sharing one budget, each request taking `latency()` ms. */
async function simulate(
  perMinute: number,
  requests: number,
  workers: number,
  latency: () => number,
  u: () => number,
): Promise<Simulation> {
  const clock = new FakeClock();
  const budget = new RequestBudget(perMinute, { nowMs: clock.nowMs, wait: clock.wait });
  const sent: number[] = [];
  const counted: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests) {
      next++;
      const ticket = await budget.take();
      const at = clock.now;
      sent.push(at);
      const took = latency();
      counted.push(at + u() * took);
      await clock.wait(took);
      ticket.answered();
    }
  };
  await clock.run(Promise.all(Array.from({ length: workers }, worker)));
  return { sent, counted, elapsed: clock.now };
}

describe('request budget (fake clock)', () => {
  it('never lets the server count more than the budget in any minute, whatever the latency', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rnd = random(seed);
      // Latencies from 1 ms to 20 s, so answers come back far out of order.
      const sim = await simulate(50, 400, 6, () => 1 + rnd() ** 3 * 20_000, rnd);
      expect(sim.sent).toHaveLength(400);
      expect(maxInWindow(sim.counted)).toBeLessThanOrEqual(50);
      expect(maxInWindow(sim.sent)).toBeLessThanOrEqual(50);
    }
  });

  it('uses the whole budget: N in the first minute and close to the limit floor overall', async () => {
    const rnd = random(42);
    const sim = await simulate(50, 400, 4, () => 20 + rnd() * 180, rnd);
    // Every slot is used in the first minute...
    expect(sim.sent.filter((t) => t < WINDOW)).toHaveLength(50);
    expect(maxInWindow(sim.counted)).toBe(50);
    // ...and the sync ends close to the earliest a sliding-minute limit allows: the 351st request
    // cannot be counted before 7 minutes after the 1st.
    const floor = Math.floor((400 - 1) / 50) * WINDOW;
    expect(sim.elapsed).toBeGreaterThanOrEqual(floor);
    expect(sim.elapsed / floor).toBeLessThan(1.01);
  });

  it('the window check catches a pacer that exceeds the limit (a budget of 51 under 50)', async () => {
    const rnd = random(7);
    const sim = await simulate(51, 200, 4, () => 20 + rnd() * 180, rnd);
    expect(maxInWindow(sim.counted)).toBe(51);
  });

  it('waits for an answer when every slot is in flight, then a full window after it', async () => {
    const clock = new FakeClock();
    const budget = new RequestBudget(2, { nowMs: clock.nowMs, wait: clock.wait });
    const result = await clock.run(
      (async () => {
        const first = await budget.take();
        await budget.take();
        const third = budget.take();
        await clock.wait(500);
        first.answered();
        first.answered(); // a second call changes nothing
        await third;
        return { at: clock.now, used: budget.used };
      })(),
    );
    expect(result.at).toBe(500 + WINDOW + 100);
    expect(result.used).toBe(2);
  });

  it('serves waiters in arrival order', async () => {
    const clock = new FakeClock();
    const budget = new RequestBudget(1, { nowMs: clock.nowMs, wait: clock.wait });
    const order: number[] = [];
    await clock.run(
      Promise.all(
        [0, 1, 2, 3].map(async (i) => {
          const ticket = await budget.take();
          order.push(i);
          ticket.answered();
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3]);
    expect(clock.now).toBe(3 * (WINDOW + 100));
  });

  it('after a 429 holds every request until the wait is over, then spaces them evenly', async () => {
    const clock = new FakeClock();
    const budget = new RequestBudget(60, { nowMs: clock.nowMs, wait: clock.wait });
    const sendFour = async (): Promise<{ times: number[]; last: Ticket }> => {
      const times: number[] = [];
      let last: Ticket | undefined;
      for (let i = 0; i < 4; i++) {
        last = await budget.take();
        last.answered();
        times.push(clock.now);
      }
      return { times, last: last as Ticket };
    };
    const [first, second, third] = await clock.run(
      (async () => {
        const early = await budget.take();
        const alsoEarly = await budget.take();
        budget.rateLimited(clock.wait(5000), early);
        // A 429 to a request sent before that slowdown says nothing new about the lowered rate.
        budget.rateLimited(clock.wait(10), alsoEarly);
        const one = await sendFour();
        budget.rateLimited(clock.wait(1000), one.last);
        const two = await sendFour();
        return [one.times, two.times, (await sendFour()).times];
      })(),
    );
    // Held 5 s, then evenly at 90% of 60 per minute: one every 1111 ms.
    expect(first).toEqual([5000, 6112, 7224, 8336]);
    // A 429 to a request sent after it (held until 9336): 81% of the rate, one every 1235 ms.
    expect(second).toEqual([9571, 10806, 12041, 13276]);
    expect(third[1] - third[0]).toBe(1235);
  });

  it('against a sliding-window counter, a few 429s slow it down until they stop', async () => {
    // Kong's approximation (https://github.com/RussellLuo/slidingwindow): the previous fixed
    // minute's count, weighted by the share of it still inside the last 60 s, plus this minute's.
    // A burst at the start of one minute still weighs on the start of the next.
    const limit = 50;
    const clock = new FakeClock();
    const budget = new RequestBudget(limit, { nowMs: clock.nowMs, wait: clock.wait });
    const perMinute = new Map<number, number>();
    const accept = (t: number): boolean => {
      const minute = Math.floor(t / WINDOW);
      const elapsed = t / WINDOW - minute;
      const current = perMinute.get(minute) ?? 0;
      if ((perMinute.get(minute - 1) ?? 0) * (1 - elapsed) + current + 1 > limit) return false;
      perMinute.set(minute, current + 1);
      return true;
    };
    let remaining = 600;
    let refused = 0;
    const worker = async (): Promise<void> => {
      while (remaining > 0) {
        const ticket = await budget.take();
        await clock.wait(100);
        const ok = accept(clock.now);
        ticket.answered();
        if (ok) {
          remaining--;
        } else {
          refused++;
          const pause = clock.wait(2000); // Retry-After: 2
          budget.rateLimited(pause, ticket);
          await pause;
        }
      }
    };
    await clock.run(Promise.all(Array.from({ length: 4 }, worker)));
    // The first minute's burst draws 429s at the start of the second; the pages in flight then
    // all get one, but the rate drops once, and no 429 comes after.
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(4);
    // 600 requests at 90% of 50 per minute, after a first minute at the full 50.
    expect(clock.now / ((600 / limit) * WINDOW)).toBeLessThan(1.12);
  });

  it('rejects a budget under one request per minute', () => {
    expect(() => new RequestBudget(0)).toThrow(/at least 1/);
  });
});

const quiet: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const PARAMS = {
  page: 1,
  page_size: 100,
  time_from: '2026-03-09T12:00:00.000Z',
  time_to: '2026-03-10T11:59:00.000Z',
};

/** `requests` pages through a real client, `inFlight` at a time, against a rate-limited simulator. */
async function fetchUnderLimit(
  limit: number,
  budget: number,
  requests: number,
  inFlight: number,
): Promise<{ elapsedMs: number; status429: number; total: number; retries: number }> {
  const sim = await startSimulator({
    seed: 3,
    clock: 'manual',
    start: '2026-03-10T12:00:00Z',
    records: 300,
    rateLimit: limit,
    retryAfter: 'seconds',
  });
  const options: ClientOptions = {
    baseUrl: sim.baseUrl,
    apiKey: 'simulator-key',
    timeoutMs: 10_000,
    maxSockets: inFlight,
    requestsPerMinute: budget,
    retryBudgetMs: 600_000,
    clock: new ServerClock(),
    log: quiet,
  };
  const client = new OrchestraClient(options);
  try {
    const started = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests) {
        const page = (next++ % 3) + 1;
        await client.getPage(
          '/pipeline_runs',
          { ...PARAMS, page },
          { path: '/pipeline_runs', page },
        );
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const elapsedMs = performance.now() - started;
    const counters = sim.counters;
    return {
      elapsedMs,
      status429: counters.byStatus['429'] ?? 0,
      total: counters.total,
      retries: client.stats.retries,
    };
  } finally {
    client.close();
    await sim.close();
  }
}

// Each case needs a real minute: the simulator's limit counts a sliding minute of wall time.
describe('request budget against the simulator with its rate limit on', () => {
  it.concurrent(
    'budget equal to the limit: 0 x 429 and within 1.05x of the time the limit forces',
    async () => {
      const run = await fetchUnderLimit(20, 20, 30, 4);
      expect(run.status429).toBe(0);
      expect(run.total).toBe(30);
      // Requests 21..30 cannot be counted before a minute after the first one.
      const floor = Math.floor((30 - 1) / 20) * WINDOW;
      expect(run.elapsedMs).toBeGreaterThanOrEqual(floor);
      expect(run.elapsedMs / floor).toBeLessThan(1.05);
    },
    110_000,
  );

  it.concurrent(
    'budget over the limit: the simulator refuses the excess, the client waits out Retry-After',
    async () => {
      const run = await fetchUnderLimit(20, 40, 24, 4);
      // The limit is real: the 21st request is refused...
      expect(run.status429).toBeGreaterThan(0);
      // ...only requests already in flight get a 429, and each retry after the wait succeeds.
      expect(run.status429).toBeLessThanOrEqual(4);
      expect(run.total).toBe(24 + run.status429);
      expect(run.retries).toBe(run.status429);
      // The server frees a slot a minute after it counted the request (its own clock, Date.now).
      expect(run.elapsedMs).toBeGreaterThanOrEqual(WINDOW - 50);
    },
    110_000,
  );
});
