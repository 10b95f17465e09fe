import { makeRedactor } from '../../src/client/errors';
import {
  backoffDelayMs,
  DEFAULT_RETRY,
  parseRetryAfterMs,
  RetryBudget,
} from '../../src/client/retry';

describe('retry timing', () => {
  it('reads Retry-After as seconds', () => {
    expect(parseRetryAfterMs('7', undefined)).toBe(7000);
    expect(parseRetryAfterMs('0.5', undefined)).toBe(500);
  });

  it('reads Retry-After as an HTTP date, against the server Date header rather than the local clock', () => {
    const server = 'Tue, 10 Mar 2026 12:00:00 GMT';
    const retryAt = 'Tue, 10 Mar 2026 12:00:30 GMT';
    const skewedLocal = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfterMs(retryAt, server, skewedLocal)).toBe(30_000);
  });

  it('ignores a missing or unreadable Retry-After', () => {
    expect(parseRetryAfterMs(undefined, undefined)).toBeUndefined();
    expect(parseRetryAfterMs('soon', undefined)).toBeUndefined();
  });

  it('backs off exponentially with jitter, up to the maximum', () => {
    const low = { ...DEFAULT_RETRY, random: () => 0 };
    const high = { ...DEFAULT_RETRY, random: () => 1 };
    expect([1, 2, 3].map((a) => backoffDelayMs(a, high))).toEqual([1000, 2000, 4000]);
    expect([1, 2, 3].map((a) => backoffDelayMs(a, low))).toEqual([500, 1000, 2000]);
    expect(backoffDelayMs(20, high)).toBe(DEFAULT_RETRY.maxDelayMs);
  });

  it('bounds the total time spent waiting across a sync', () => {
    const budget = new RetryBudget(10_000);
    expect(budget.tryReserve(6000)).toBe(true);
    expect(budget.tryReserve(6000)).toBe(false);
    expect(budget.tryReserve(4000)).toBe(true);
    expect(budget.remainingMs).toBe(0);
  });
});

describe('redaction', () => {
  it('removes the key and any bearer token from a text', () => {
    const redact = makeRedactor(['canary-123456']);
    expect(redact('key=canary-123456 and Authorization: Bearer abc.def')).toBe(
      'key=REDACTED and Authorization: Bearer REDACTED',
    );
  });
});
