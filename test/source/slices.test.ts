import {
  DAY_MS,
  HOUR_MS,
  planSync,
  RETENTION_MARGIN_MS,
  RETENTION_MS,
  SAFETY_LAG_MS,
  splitSlice,
  slices,
} from '../../src/streams/slices';

const NOW = new Date('2026-03-10T12:00:00.000Z');
const at = (ms: number): Date => new Date(NOW.getTime() + ms);

describe('sync planning', () => {
  it('starts a first sync at the oldest data the API serves when no start_date is set', () => {
    const plan = planSync({ now: NOW, lookbackWindowMs: 3 * HOUR_MS });
    expect(plan.from).toEqual(at(-RETENTION_MS + RETENTION_MARGIN_MS));
    expect(plan.to).toEqual(at(-SAFETY_LAG_MS));
    expect(plan.hoursLost).toBeUndefined();
  });

  it('clamps an old start_date to the retention and says so', () => {
    const plan = planSync({ now: NOW, startDate: at(-30 * DAY_MS), lookbackWindowMs: 0 });
    expect(plan.from).toEqual(plan.retentionStart);
    expect(plan.startClamped).toBe(true);
  });

  it('keeps a recent start_date', () => {
    const plan = planSync({ now: NOW, startDate: at(-2 * DAY_MS), lookbackWindowMs: 0 });
    expect(plan.from).toEqual(at(-2 * DAY_MS));
    expect(plan.startClamped).toBe(false);
  });

  it('resumes from the cursor minus the look-back', () => {
    const plan = planSync({ now: NOW, cursor: at(-6 * HOUR_MS), lookbackWindowMs: 3 * HOUR_MS });
    expect(plan.from).toEqual(at(-9 * HOUR_MS));
    expect(plan.hoursLost).toBeUndefined();
  });

  it('reports the hours lost when the cursor is older than the retention', () => {
    const plan = planSync({ now: NOW, cursor: at(-9 * DAY_MS), lookbackWindowMs: 3 * HOUR_MS });
    expect(plan.from).toEqual(plan.retentionStart);
    const expectedHours = (2 * DAY_MS + RETENTION_MARGIN_MS) / HOUR_MS;
    expect(plan.hoursLost).toBeCloseTo(expectedHours, 5);
  });

  it('reads nothing when the cursor is ahead of the server clock', () => {
    const plan = planSync({ now: NOW, cursor: at(365 * DAY_MS), lookbackWindowMs: 3 * HOUR_MS });
    expect(plan.cursorInFuture).toBe(true);
    expect([...slices(plan.from, plan.to, DAY_MS)]).toEqual([]);
  });
});

describe('windows', () => {
  it('cover the range with windows of at most the configured size, overlapping by 1 ms', () => {
    const list = [...slices(at(-50 * HOUR_MS), at(0), 24 * HOUR_MS)];
    expect(list).toHaveLength(3);
    expect(list[0]).toEqual({ from: at(-50 * HOUR_MS), to: at(-26 * HOUR_MS) });
    for (let i = 1; i < list.length; i++) {
      expect(list[i].from.getTime()).toBe(list[i - 1].to.getTime() - 1);
      expect(list[i].to.getTime() - list[i].from.getTime()).toBeLessThanOrEqual(24 * HOUR_MS);
    }
    expect(list[list.length - 1].to).toEqual(at(0));
  });

  it('split in two halves that still overlap', () => {
    const [a, b] = splitSlice({ from: at(0), to: at(HOUR_MS) });
    expect(a.from).toEqual(at(0));
    expect(b.to).toEqual(at(HOUR_MS));
    expect(b.from.getTime()).toBe(a.to.getTime() - 1);
  });
});
