/**
 * Seeded fault injection per endpoint, faults forced at run time (POST /_sim/config `inject`), and the
 * per-key rate limiter. Rate limiting runs on real time: clients pace themselves with real sleeps,
 * whatever the simulated clock does.
 */
import { Endpoint, FaultConfig, FaultRates, RetryAfterMode } from './options';
import { Rng, hashString } from './prng';

export type FaultKind = keyof FaultRates;

export const FAULT_KINDS: FaultKind[] = [
  'hang',
  'reset',
  'truncated',
  'serverError',
  'rateLimited',
  'emptyPage',
  'duplicate',
  'shift',
  'slow',
];

export interface Injection {
  fault: FaultKind;
  /** How many matching requests get it. */
  count: number;
  /** Only this endpoint (default: any list endpoint). */
  endpoint?: Endpoint;
  /** For serverError: the status (500, 502, 503 or 504). */
  status?: number;
}

export interface FaultDecision {
  /** The fault that shapes the response (at most one), if any. */
  fault?: FaultKind;
  slow: boolean;
  status?: number;
  /** A number in [0,1) for choices inside the fault (cut point, shift size, header style). */
  u: number;
}

export class FaultInjector {
  private readonly counters = new Map<Endpoint, number>();
  private injections: Injection[] = [];

  constructor(
    private readonly seed: number,
    public config: FaultConfig,
  ) {}

  inject(list: Injection[]): void {
    for (const inj of list) {
      if (!FAULT_KINDS.includes(inj.fault)) {
        throw new Error(`unknown fault "${inj.fault}": use one of ${FAULT_KINDS.join(', ')}`);
      }
      if (!Number.isInteger(inj.count) || inj.count < 1) {
        throw new Error(`inject.count must be a positive integer, got ${String(inj.count)}`);
      }
      this.injections.push({ ...inj });
    }
  }

  clearInjections(): void {
    this.injections = [];
  }

  pendingInjections(): Injection[] {
    return this.injections.map((i) => ({ ...i }));
  }

  rates(endpoint: Endpoint): FaultRates {
    return { ...this.config.rates, ...(this.config.perEndpoint[endpoint] ?? {}) };
  }

  decide(endpoint: Endpoint): FaultDecision {
    const n = this.counters.get(endpoint) ?? 0;
    this.counters.set(endpoint, n + 1);
    const rng = new Rng(this.seed, hashString(endpoint), n, 991);
    const u = rng.next();
    const forced = this.injections.find((i) => i.endpoint === undefined || i.endpoint === endpoint);
    if (forced) {
      forced.count--;
      if (forced.count <= 0) this.injections.splice(this.injections.indexOf(forced), 1);
      return {
        fault: forced.fault === 'slow' ? undefined : forced.fault,
        slow: forced.fault === 'slow',
        status: forced.status,
        u,
      };
    }
    const rates = this.rates(endpoint);
    let fault: FaultKind | undefined;
    for (const kind of FAULT_KINDS) {
      if (kind === 'slow') continue;
      if (rates[kind] > 0 && rng.next() < rates[kind]) {
        fault = kind;
        break;
      }
    }
    const slow = rates.slow > 0 && rng.next() < rates.slow;
    return { fault, slow, u };
  }
}

export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(public perMinute: number) {}

  /** Milliseconds until the key may send again, or 0 when this request is allowed (and counted). */
  check(key: string, realNowMs: number): number {
    if (this.perMinute <= 0) return 0;
    let list = this.hits.get(key);
    if (!list) {
      list = [];
      this.hits.set(key, list);
    }
    while (list.length && list[0] <= realNowMs - 60000) list.shift();
    if (list.length >= this.perMinute) return list[0] + 60000 - realNowMs;
    list.push(realNowMs);
    return 0;
  }

  reset(): void {
    this.hits.clear();
  }
}

/** The Retry-After header value for a 429, or undefined for none. */
export function retryAfterHeader(
  mode: RetryAfterMode,
  waitMs: number,
  simNowMs: number,
  u: number,
): string | undefined {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const style = mode === 'mixed' ? (['seconds', 'date', 'none'] as const)[Math.floor(u * 3)] : mode;
  if (style === 'none') return undefined;
  if (style === 'date') return new Date(simNowMs + seconds * 1000 + 999).toUTCString();
  return String(seconds);
}
