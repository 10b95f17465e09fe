import axios, { AxiosInstance, AxiosResponse } from 'axios';
import http from 'http';
import https from 'https';

import { ServerClock } from '../clock';
import { RequestBudget, sleep as realSleep, Sleep } from './budget';
import {
  describeRequest,
  httpStatusError,
  isRetryableStatus,
  malformedError,
  networkError,
  RequestContext,
} from './errors';
import {
  backoffDelayMs,
  DEFAULT_RETRY,
  parseRetryAfterMs,
  RetryBudget,
  RetryOptions,
} from './retry';

export type ApiRecord = Record<string, unknown>;

/** The API's list envelope: `total` counts matching records, not pages. */
export interface Page {
  page: number;
  pageSize: number;
  total: number;
  results: ApiRecord[];
  /** The body's bytes as received: lets the stream encoder reuse the API's own value bytes. */
  body?: Buffer;
}

export interface Log {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type QueryParams = Record<string, string | number | boolean | undefined>;

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  accountId?: string;
  timeoutMs: number;
  /** Sockets kept open to the API; at least the pages in flight. */
  maxSockets: number;
  requestsPerMinute: number;
  retryBudgetMs: number;
  clock: ServerClock;
  log: Log;
  retry?: Partial<RetryOptions>;
  sleep?: Sleep;
}

export interface ClientStats {
  requests: number;
  retries: number;
  waitedMs: number;
}

/** Why an attempt failed, kept until retries run out so the final error names the real cause. */
type Failure =
  | { kind: 'status'; status: number; body: string; retryAfterMs?: number }
  | { kind: 'network'; code?: string }
  | { kind: 'malformed'; reason: string; html: boolean };

/**
 * Orchestra's list endpoints over one keep-alive connection pool, with a client-side request budget,
 * bounded retries and errors that name the endpoint and page. Errors are built from status codes
 * and error codes only: axios errors carry request headers (the key), so none is ever rethrown.
 */
export class OrchestraClient {
  readonly stats: ClientStats = { requests: 0, retries: 0, waitedMs: 0 };
  private readonly http: AxiosInstance;
  private readonly budget: RequestBudget;
  private readonly retryBudget: RetryBudget;
  private readonly retry: RetryOptions;
  private readonly sleep: Sleep;
  private readonly agents: Array<http.Agent | https.Agent>;

  constructor(private readonly options: ClientOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
    this.agents = [new http.Agent(agentOptions), new https.Agent(agentOptions)];
    const headers: Record<string, string> = {
      Authorization: `Bearer ${options.apiKey}`,
      Accept: 'application/json',
      'User-Agent': 'source-orchestra (Airbyte)',
    };
    if (options.accountId) headers['X-Orchestra-Account-Id'] = options.accountId;
    this.http = axios.create({
      baseURL: options.baseUrl,
      headers,
      timeout: options.timeoutMs,
      // Raw bytes, parsed here: a body that is not the JSON envelope must be detected, not
      // guessed at, and the bytes are reused to write records.
      responseType: 'arraybuffer',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      // axios looks the proxy environment up on every request; skip that when none is set.
      ...(hasProxyEnv() ? {} : { proxy: false as const }),
      httpAgent: this.agents[0],
      httpsAgent: this.agents[1],
    });
    this.budget = new RequestBudget(options.requestsPerMinute);
    this.retryBudget = new RetryBudget(options.retryBudgetMs);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.sleep = options.sleep ?? realSleep;
  }

  /** Closes kept-alive sockets so the process can exit at once. */
  close(): void {
    for (const agent of this.agents) agent.destroy();
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** GETs one page of a list endpoint, retrying what is worth retrying. */
  async getPage(
    path: string,
    params: QueryParams,
    ctx: RequestContext,
    retry: RetryOptions = this.retry,
  ): Promise<Page> {
    const query = toQuery(params);
    for (let attempt = 1; ; attempt++) {
      const ticket = await this.budget.take();
      this.stats.requests++;
      let failure: Page | Failure;
      try {
        failure = await this.attempt(`${path}?${query}`);
      } finally {
        ticket.answered();
      }
      if (!('kind' in failure)) return failure;
      const delay = this.retryDelay(failure, attempt, retry);
      if (delay === undefined) throw this.finalError(failure, ctx, attempt);
      this.stats.retries++;
      this.stats.waitedMs += delay;
      this.options.log.warn(
        `Retrying ${describeRequest(ctx)} in ${(delay / 1000).toFixed(1)}s ` +
          `(attempt ${attempt + 1} of ${retry.maxAttempts}): ${summarise(failure)}`,
      );
      const pause = this.sleep(delay);
      // A 429 holds every page's next request, not only this one's, until the wait is over.
      if (failure.kind === 'status' && failure.status === 429)
        this.budget.rateLimited(pause, ticket);
      await pause;
    }
  }

  private async attempt(url: string): Promise<Page | Failure> {
    let res: AxiosResponse<Buffer>;
    try {
      res = await this.http.get<Buffer>(url);
    } catch (err) {
      return { kind: 'network', code: (err as { code?: string }).code };
    }
    const date = res.headers['date'];
    this.options.clock.observe(typeof date === 'string' ? date : undefined);
    const bytes = Buffer.isBuffer(res.data) ? res.data : Buffer.from(res.data ?? '');
    const body = bytes.toString('utf8');
    if (res.status < 200 || res.status >= 300) {
      const retryAfter = res.headers['retry-after'];
      return {
        kind: 'status',
        status: res.status,
        body: body.slice(0, 2000),
        retryAfterMs: parseRetryAfterMs(
          typeof retryAfter === 'string' ? retryAfter : undefined,
          typeof date === 'string' ? date : undefined,
        ),
      };
    }
    const page = parseEnvelope(body, String(res.headers['content-type'] ?? ''));
    if (!('kind' in page)) page.body = bytes;
    return page;
  }

  /** Milliseconds to wait before the next attempt, or undefined to give up now. */
  private retryDelay(failure: Failure, attempt: number, retry: RetryOptions): number | undefined {
    if (attempt >= retry.maxAttempts) return undefined;
    if (failure.kind === 'status' && !isRetryableStatus(failure.status)) return undefined;
    let delay = backoffDelayMs(attempt, retry);
    if (failure.kind === 'status' && failure.retryAfterMs !== undefined) {
      if (failure.retryAfterMs > retry.maxRetryAfterMs) return undefined;
      // Honour the server's wait, plus a little jitter so concurrent pages do not stampede.
      delay = failure.retryAfterMs + retry.random() * Math.min(1000, retry.baseDelayMs);
    }
    if (!this.retryBudget.tryReserve(delay)) return undefined;
    return delay;
  }

  private finalError(failure: Failure, ctx: RequestContext, attempts: number): Error {
    const { baseUrl, timeoutMs } = this.options;
    switch (failure.kind) {
      case 'status':
        return httpStatusError(failure.status, failure.body, ctx, baseUrl, attempts);
      case 'network':
        return networkError(failure.code, ctx, baseUrl, timeoutMs, attempts);
      case 'malformed':
        return malformedError(failure.reason, failure.html, ctx, baseUrl, attempts);
    }
  }
}

function hasProxyEnv(): boolean {
  return ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'].some((k) => !!process.env[k]);
}

function summarise(failure: Failure): string {
  switch (failure.kind) {
    case 'status':
      return `HTTP ${failure.status}`;
    case 'network':
      return failure.code ?? 'network error';
    case 'malformed':
      return failure.html ? 'an HTML page instead of JSON' : failure.reason;
  }
}

function toQuery(params: QueryParams): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) search.set(key, String(value));
  }
  return search.toString();
}

/** Checks the envelope shape; truncated or foreign bodies become a retryable failure. */
export function parseEnvelope(body: string, contentType: string): Page | Failure {
  const html = /html/i.test(contentType) || /^\s*<(!doctype|html)/i.test(body);
  if (html) return { kind: 'malformed', reason: 'an HTML page instead of JSON', html: true };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const reason =
      body.length === 0 ? 'an empty body' : `invalid or truncated JSON (${body.length} bytes)`;
    return { kind: 'malformed', reason, html: false };
  }
  const env = parsed as Partial<Page> | null;
  if (typeof env !== 'object' || env === null || !Array.isArray(env.results)) {
    return { kind: 'malformed', reason: 'no "results" array in the body', html: false };
  }
  // A made-up total would let the engine call a window whole that is not (docs/sync-algorithm.md).
  if (typeof env.total !== 'number' || !Number.isInteger(env.total) || env.total < 0) {
    return { kind: 'malformed', reason: 'no whole-number "total" in the body', html: false };
  }
  for (const record of env.results) {
    if (
      typeof record !== 'object' ||
      record === null ||
      typeof (record as ApiRecord).id !== 'string'
    ) {
      return { kind: 'malformed', reason: 'a result without a string "id"', html: false };
    }
  }
  return {
    page: typeof env.page === 'number' ? env.page : 0,
    // 0: the API did not say how many it serves per page; a short page is then not a cap.
    pageSize: Number.isInteger(env.pageSize) && Number(env.pageSize) > 0 ? Number(env.pageSize) : 0,
    total: env.total,
    results: env.results,
  };
}
