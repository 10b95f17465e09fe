/** The simulated clock, in integer microseconds since the Unix epoch. */

export interface SimClock {
  /** Simulated now in µs. */
  nowUs(): number;
  now(): Date;
  /** Move simulated time forward (also allowed on the wall clock: it adds an offset). */
  advance(ms: number): void;
  readonly mode: 'wall' | 'manual';
}

export function createClock(mode: 'wall' | 'manual', startUs: number): SimClock {
  const realStartUs = Date.now() * 1000;
  let offsetUs = 0;
  const nowUs =
    mode === 'manual'
      ? (): number => startUs + offsetUs
      : (): number => startUs + offsetUs + (Date.now() * 1000 - realStartUs);
  return {
    mode,
    nowUs,
    now: () => new Date(Math.floor(nowUs() / 1000)),
    advance(ms: number): void {
      if (!Number.isFinite(ms) || ms < 0) {
        throw new Error(`advance(ms) needs a non-negative number of milliseconds, got ${ms}`);
      }
      offsetUs += Math.round(ms * 1000);
    },
  };
}
