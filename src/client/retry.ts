/** How failed requests are retried. Exposed so tests can shrink the delays; users tune the budget. */
export interface RetryOptions {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** First backoff delay; doubles per attempt, up to maxDelayMs, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not worth waiting for within one sync. */
  maxRetryAfterMs: number;
  random: () => number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 8,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 300_000,
  random: Math.random,
};

/** `check` must answer quickly: one quick retry for a blip, no long waits. */
export const CHECK_RETRY: RetryOptions = {
  maxAttempts: 2,
  baseDelayMs: 500,
  maxDelayMs: 2000,
  maxRetryAfterMs: 2000,
  random: Math.random,
};

/** Exponential backoff with "equal jitter": half fixed, half random, so retries spread out. */
export function backoffDelayMs(attempt: number, options: RetryOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + (ceiling / 2) * options.random();
}

/**
 * Parses a Retry-After header: delta-seconds or an HTTP date. A date is compared with the
 * response's own Date header (server time) when there is one, so client clock skew does not matter.
 */
export function parseRetryAfterMs(
  value: string | undefined,
  serverDate: string | undefined,
  localNowMs: number = Date.now(),
): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // Otherwise only an HTTP-date (a day name and hh:mm:ss): Date.parse alone takes "-5" as a year.
  // https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
  if (!/^[A-Za-z]{3,9},?\s.*\d{2}:\d{2}:\d{2}/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  const serverNow = serverDate ? Date.parse(serverDate) : NaN;
  const reference = Number.isNaN(serverNow) ? localNowMs : serverNow;
  return Math.max(0, at - reference);
}

/** The total time one sync may spend waiting on retries, shared by every request of the sync. */
export class RetryBudget {
  private spent = 0;
  constructor(readonly totalMs: number) {}

  get remainingMs(): number {
    return Math.max(0, this.totalMs - this.spent);
  }

  get spentMs(): number {
    return this.spent;
  }

  /** Reserves `ms` of waiting; false when the budget cannot cover it. */
  tryReserve(ms: number): boolean {
    if (ms > this.remainingMs) return false;
    this.spent += ms;
    return true;
  }
}
