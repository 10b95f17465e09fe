/** Simulator options, scenarios (named bundles of switches) and their validation. */
import VError from 'verror';

export type ScenarioName = 'calm' | 'realistic' | 'hostile';
export type WindowField = 'created' | 'updated';
export type Order = 'asc' | 'desc' | 'shuffled';
export type OptionalMode = 'null' | 'omit';
export type RetryAfterMode = 'seconds' | 'date' | 'none' | 'mixed';
export type ClockMode = 'wall' | 'manual';
export type WideWindow = 'reject' | 'clamp';
export type Endpoint = 'pipeline_runs' | 'task_runs' | 'operations' | 'pipeline_run_task_runs';

export const ENDPOINTS: Endpoint[] = [
  'pipeline_runs',
  'task_runs',
  'operations',
  'pipeline_run_task_runs',
];

/** Probability per request of each injected fault (0..1). */
export interface FaultRates {
  /** 429 with or without Retry-After (see retryAfter). */
  rateLimited: number;
  /** 500/502/503/504; some 502s have an HTML body. */
  serverError: number;
  /** Response delayed by slowMs. */
  slow: number;
  /** Headers and part of the body sent, then the connection is reset. */
  reset: number;
  /** A complete HTTP response whose JSON body is cut short. */
  truncated: number;
  /** No response at all for hangMs, then the connection is dropped. */
  hang: number;
  /** 200 with an empty `results` while `total` says there are more. */
  emptyPage: number;
  /** The last record of the previous page repeated at the top of this page. */
  duplicate: number;
  /** The page starts a few records early, as when rows are inserted ahead of the reader. */
  shift: number;
}

export const NO_FAULTS: FaultRates = {
  rateLimited: 0,
  serverError: 0,
  slow: 0,
  reset: 0,
  truncated: 0,
  hang: 0,
  emptyPage: 0,
  duplicate: 0,
  shift: 0,
};

export interface FaultConfig {
  /** Rates for every endpoint, overridden per endpoint. */
  rates: FaultRates;
  perEndpoint: Partial<Record<Endpoint, Partial<FaultRates>>>;
}

export interface SimulatorOptions {
  port: number;
  host: string;
  seed: number;
  scenario: ScenarioName;
  clock: ClockMode;
  /** Simulated time at start (ISO). Default: the wall clock now, truncated to the second. */
  start?: string;
  /** Approximate number of records (all streams) inside the retention at start. */
  records: number;
  windowField: WindowField;
  order: Order;
  optional: OptionalMode;
  apiKeys: string[];
  /** Requests per minute per key; 0 = unlimited. */
  rateLimit: number;
  retryAfter: RetryAfterMode;
  retentionDays: number;
  wideWindow: WideWindow;
  multiAccount: boolean;
  nonEnterprise: boolean;
  /** How long a "never-responding" request hangs before the connection is dropped. */
  hangMs: number;
  /** Delay of a "slow" response. */
  slowMs: number;
  faults: FaultConfig;
  /** Days of history generated before start (beyond retention, so expiry can be observed). */
  historyDays: number;
  /** Keep the last N requests in the request log. */
  requestLogSize: number;
  /** Print one line per request to stderr. */
  verbose: boolean;
}

export type SimulatorOptionsInput = Partial<Omit<SimulatorOptions, 'faults'>> & {
  faults?: Partial<FaultRates> | FaultConfigInput;
};

export interface FaultConfigInput {
  rates?: Partial<FaultRates>;
  perEndpoint?: Partial<Record<Endpoint, Partial<FaultRates>>>;
}

interface ScenarioDefaults {
  windowField: WindowField;
  order: Order;
  optional: OptionalMode;
  rateLimit: number;
  retryAfter: RetryAfterMode;
  hangMs: number;
  slowMs: number;
  faults: FaultRates;
  description: string;
}

export const SCENARIOS: Record<ScenarioName, ScenarioDefaults> = {
  calm: {
    description: 'no faults, no rate limit, ascending order, created window field (benchmarks)',
    windowField: 'created',
    order: 'asc',
    optional: 'null',
    rateLimit: 0,
    retryAfter: 'seconds',
    hangMs: 30000,
    slowMs: 500,
    faults: { ...NO_FAULTS },
  },
  realistic: {
    description:
      'descending order, 50 requests/min per key with numeric Retry-After, ~1% 429s, ~1% 5xx, a few slow responses, rare hangs (30 s)',
    windowField: 'created',
    order: 'desc',
    optional: 'null',
    rateLimit: 50,
    retryAfter: 'seconds',
    hangMs: 30000,
    slowMs: 1500,
    faults: {
      ...NO_FAULTS,
      rateLimited: 0.01,
      serverError: 0.01,
      slow: 0.02,
      hang: 0.002,
    },
  },
  hostile: {
    description:
      'shuffled order, optional fields omitted, every fault at a few percent, 300 requests/min with Retry-After as seconds, a date or missing',
    windowField: 'created',
    order: 'shuffled',
    optional: 'omit',
    rateLimit: 300,
    retryAfter: 'mixed',
    hangMs: 30000,
    slowMs: 800,
    faults: {
      rateLimited: 0.03,
      serverError: 0.04,
      slow: 0.03,
      reset: 0.02,
      truncated: 0.02,
      hang: 0.01,
      emptyPage: 0.03,
      duplicate: 0.04,
      shift: 0.03,
    },
  },
};

export const DEFAULT_API_KEY = 'simulator-key';

function isFaultConfigInput(f: Partial<FaultRates> | FaultConfigInput): f is FaultConfigInput {
  return 'rates' in f || 'perEndpoint' in f;
}

export function normalizeFaults(
  base: FaultConfig,
  input: Partial<FaultRates> | FaultConfigInput | undefined,
): FaultConfig {
  if (!input) return base;
  const cfg: FaultConfigInput = isFaultConfigInput(input) ? input : { rates: input };
  const rates = { ...base.rates, ...(cfg.rates ?? {}) };
  for (const [k, v] of Object.entries(rates)) {
    if (!(k in NO_FAULTS)) {
      throw new VError('unknown fault "%s": use one of %s', k, Object.keys(NO_FAULTS).join(', '));
    }
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new VError('fault rate "%s" must be a number between 0 and 1, got %s', k, String(v));
    }
  }
  const perEndpoint = { ...base.perEndpoint };
  for (const [ep, r] of Object.entries(cfg.perEndpoint ?? {})) {
    if (!ENDPOINTS.includes(ep as Endpoint)) {
      throw new VError('unknown endpoint "%s" in faults: use one of %s', ep, ENDPOINTS.join(', '));
    }
    perEndpoint[ep as Endpoint] = { ...(perEndpoint[ep as Endpoint] ?? {}), ...r };
  }
  return { rates, perEndpoint };
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new VError('%s must be one of %s, got "%s"', name, allowed.join(', '), String(value));
  }
  return value as T;
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new VError('%s must be a non-negative number, got "%s"', name, String(value));
  }
  return value;
}

/** Merge scenario defaults with explicit options and validate everything. */
export function resolveOptions(input: SimulatorOptionsInput = {}): SimulatorOptions {
  const scenario = oneOf('scenario', input.scenario ?? 'calm', [
    'calm',
    'realistic',
    'hostile',
  ] as const);
  const s = SCENARIOS[scenario];
  const opts: SimulatorOptions = {
    port: input.port ?? 0,
    host: input.host ?? '127.0.0.1',
    seed: input.seed ?? 1,
    scenario,
    clock: oneOf('clock', input.clock ?? 'wall', ['wall', 'manual'] as const),
    start: input.start,
    records: input.records ?? 2000,
    windowField: oneOf('window-field', input.windowField ?? s.windowField, [
      'created',
      'updated',
    ] as const),
    order: oneOf('order', input.order ?? s.order, ['asc', 'desc', 'shuffled'] as const),
    optional: oneOf('optional', input.optional ?? s.optional, ['null', 'omit'] as const),
    apiKeys: input.apiKeys && input.apiKeys.length > 0 ? input.apiKeys : [DEFAULT_API_KEY],
    rateLimit: nonNegative('rate-limit', input.rateLimit ?? s.rateLimit),
    retryAfter: oneOf('retry-after', input.retryAfter ?? s.retryAfter, [
      'seconds',
      'date',
      'none',
      'mixed',
    ] as const),
    retentionDays: nonNegative('retention-days', input.retentionDays ?? 7),
    wideWindow: oneOf('wide-window', input.wideWindow ?? 'reject', ['reject', 'clamp'] as const),
    multiAccount: input.multiAccount ?? false,
    nonEnterprise: input.nonEnterprise ?? false,
    hangMs: nonNegative('hang-ms', input.hangMs ?? s.hangMs),
    slowMs: nonNegative('slow-ms', input.slowMs ?? s.slowMs),
    faults: normalizeFaults({ rates: { ...s.faults }, perEndpoint: {} }, input.faults),
    historyDays: nonNegative('history-days', input.historyDays ?? 8),
    requestLogSize: nonNegative('request-log-size', input.requestLogSize ?? 10000),
    verbose: input.verbose ?? false,
  };
  if (!Number.isInteger(opts.seed))
    throw new VError('seed must be an integer, got "%s"', opts.seed);
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new VError('port must be an integer between 0 and 65535, got "%s"', String(opts.port));
  }
  nonNegative('records', opts.records);
  if (opts.start !== undefined && Number.isNaN(Date.parse(opts.start))) {
    throw new VError('start must be an ISO 8601 date-time, got "%s"', opts.start);
  }
  return opts;
}
