/** The simulated world lives: deterministic, runs move through statuses, retention expires, switches bite. */
import { startSimulator, SimulatorHandle, SimulatorOptionsInput } from '../src';
import { DAY, HOUR, Rec, ids, page, readAll, toUs } from './helpers';

const START = '2026-02-10T06:00:00Z';
const open: SimulatorHandle[] = [];
async function sim(o: SimulatorOptionsInput = {}): Promise<SimulatorHandle> {
  const s = await startSimulator({ seed: 41, clock: 'manual', start: START, records: 3000, ...o });
  open.push(s);
  return s;
}
afterAll(async () => {
  for (const s of open) await s.close();
});

const win = (s: SimulatorHandle, span = 7 * DAY, end = 0): Record<string, string> => {
  const now = s.clock.now().getTime() - end;
  return { time_from: new Date(now - span).toISOString(), time_to: new Date(now).toISOString() };
};

const PIPELINE_NEXT: Record<string, string[]> = {
  CREATED: ['RUNNING', 'SKIPPED'],
  RUNNING: ['CANCELLING', 'SUCCEEDED', 'WARNING', 'FAILED', 'CANCELLED'],
  CANCELLING: ['CANCELLED'],
};
const TASK_NEXT: Record<string, string[]> = {
  CREATED: ['QUEUED', 'SKIPPED', 'CANCELLED', 'RUNNING'],
  QUEUED: ['RUNNING', 'CANCELLED'],
  RUNNING: ['CANCELLING', 'SUCCEEDED', 'WARNING', 'FAILED', 'CANCELLED'],
  CANCELLING: ['CANCELLED'],
};

/** Statuses seen across snapshots must follow the lifecycle (steps may be skipped between snapshots). */
function reachable(next: Record<string, string[]>, from: string, to: string): boolean {
  if (from === to) return true;
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const s = stack.pop() as string;
    for (const n of next[s] ?? []) {
      if (n === to) return true;
      if (!seen.has(n)) {
        seen.add(n);
        stack.push(n);
      }
    }
  }
  return false;
}

describe('determinism', () => {
  test('the same seed and switches give the same world; another seed another one', async () => {
    const a = await sim({ seed: 5 });
    const b = await sim({ seed: 5 });
    const c = await sim({ seed: 6 });
    expect(JSON.stringify(a.truth('task_runs'))).toBe(JSON.stringify(b.truth('task_runs')));
    expect(await page(a.baseUrl, '/operations', win(a))).toEqual(
      await page(b.baseUrl, '/operations', win(b)),
    );
    const other = new Set(ids(c.truth('pipeline_runs')));
    const overlap = ids(a.truth('pipeline_runs')).filter((id) => other.has(id));
    expect(overlap).toEqual([]);
  });

  test('a run keeps its id whatever the start time or the way the clock advanced', async () => {
    const a = await sim({ seed: 5, start: '2026-02-10T06:00:00Z' });
    const b = await sim({ seed: 5, start: '2026-02-09T06:00:00Z' });
    for (let i = 0; i < 24; i++) b.clock.advance(HOUR);
    const byId = new Map(b.truth('pipeline_runs').map((r) => [r.id, r]));
    const common = a.truth('pipeline_runs').filter((r) => byId.has(r.id));
    expect(common.length).toBeGreaterThan(100);
    const differ = common
      .filter((r) => JSON.stringify(byId.get(r.id)) !== JSON.stringify(r))
      .map((r) => r.id);
    expect(differ).toEqual([]);
  });
});

describe('runs move through statuses as the clock advances', () => {
  let s: SimulatorHandle;
  const snaps: { pr: Map<unknown, Rec>; tr: Map<unknown, Rec>; op: Rec[]; nowUs: number }[] = [];
  beforeAll(async () => {
    s = await sim({ records: 25000 });
    for (let i = 0; i < 8; i++) {
      snaps.push({
        pr: new Map(s.truth('pipeline_runs').map((r) => [r.id, r])),
        tr: new Map(s.truth('task_runs').map((r) => [r.id, r])),
        op: i === 0 || i === 7 ? s.truth('operations') : [],
        nowUs: s.clock.now().getTime() * 1000,
      });
      s.clock.advance(20 * 60000);
    }
  });

  test('nothing moves on a manual clock until advance()', async () => {
    const a = await page(s.baseUrl, '/task_runs', { page_size: 100 });
    await new Promise((r) => setTimeout(r, 50));
    expect(await page(s.baseUrl, '/task_runs', { page_size: 100 })).toEqual(a);
  });

  test('pipeline and task statuses only move forward along the documented lifecycle, and updatedAt moves with them', () => {
    let changes = 0;
    const bad: string[] = [];
    for (const [key, next] of [
      ['pr', PIPELINE_NEXT],
      ['tr', TASK_NEXT],
    ] as const) {
      for (let i = 1; i < snaps.length; i++) {
        for (const [id, after] of snaps[i][key]) {
          const before = snaps[i - 1][key].get(id);
          if (!before) continue;
          const field = key === 'pr' ? 'runStatus' : 'status';
          const from = before[field] as string;
          const to = after[field] as string;
          if (!reachable(next, from, to)) bad.push(`${key} ${String(id)}: ${from} -> ${to}`);
          if (from !== to) {
            changes++;
            if (!(toUs(after.updatedAt as string) > toUs(before.updatedAt as string))) {
              bad.push(`${key} ${String(id)}: ${from} -> ${to} without updatedAt moving`);
            }
          } else if (after.updatedAt !== before.updatedAt) {
            bad.push(`${key} ${String(id)}: updatedAt moved while ${from} stayed`);
          }
        }
      }
    }
    expect(bad.slice(0, 10)).toEqual([]);
    expect(changes).toBeGreaterThan(20);
  });

  test('every status of both lifecycles occurs, including CANCELLING, SKIPPED and retried attempts', async () => {
    const other = await sim({ records: 40000, seed: 42 });
    const missing = async (path: string, statuses: string[]): Promise<string[]> => {
      const left = new Set(statuses);
      // Poll each status with page_size=1 while the clock moves on in 2-minute steps.
      for (let step = 0; step < 2000 && left.size; step++) {
        for (const st of [...left]) {
          if ((await page(other.baseUrl, path, { status: st, page_size: 1 })).total > 0)
            left.delete(st);
        }
        other.clock.advance(2 * 60000);
      }
      return [...left];
    };
    expect(
      await missing(
        '/pipeline_runs',
        Object.keys(PIPELINE_NEXT).concat('SUCCEEDED', 'WARNING', 'FAILED', 'SKIPPED', 'CANCELLED'),
      ),
    ).toEqual([]);
    expect(
      await missing(
        '/task_runs',
        Object.keys(TASK_NEXT).concat('SUCCEEDED', 'WARNING', 'FAILED', 'SKIPPED', 'CANCELLED'),
      ),
    ).toEqual([]);
    const attempts = other.truth('task_runs').map((r) => r.numberOfAttempts as number);
    expect(Math.max(...attempts)).toBeGreaterThan(1);
  });

  test('durations range from seconds to more than a day', () => {
    const done = [...snaps[snaps.length - 1].pr.values()].filter((r) => r.completedAt);
    const d = done.map((r) => (toUs(r.completedAt as string) - toUs(r.createdAt as string)) / 1e6);
    expect(Math.min(...d)).toBeLessThan(60);
    expect(Math.max(...d)).toBeGreaterThan(86400);
  });

  test('operations are inserted while their task runs, and never change afterwards', () => {
    const last = snaps[snaps.length - 1];
    const bad: string[] = [];
    for (const op of last.op) {
      const task = last.tr.get(op.taskRunId);
      if (!task) {
        bad.push(`operation ${String(op.id)}: task run ${String(op.taskRunId)} unknown`);
        continue;
      }
      const ins = toUs(op.insertedAt as string);
      if (ins < toUs(task.startedAt as string))
        bad.push(`operation ${String(op.id)} inserted before its task started`);
      if (task.completedAt && ins > toUs(task.completedAt as string))
        bad.push(`operation ${String(op.id)} inserted after its task completed`);
    }
    const first = new Map(snaps[0].op.map((o) => [o.id, JSON.stringify(o)]));
    let grew = 0;
    for (const op of last.op) {
      const before = first.get(op.id);
      if (before === undefined) grew++;
      else if (before !== JSON.stringify(op)) bad.push(`operation ${String(op.id)} changed`);
    }
    // A record is served only once its creation time has passed.
    for (const snap of snaps) {
      for (const op of snap.op)
        if (toUs(op.insertedAt as string) > snap.nowUs)
          bad.push(`operation ${String(op.id)} served before insertedAt`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
    expect(grew).toBeGreaterThan(0);
  });

  test('timestamps are ISO 8601 with microseconds and +00:00', () => {
    const rec = [...snaps[0].pr.values()][0];
    for (const f of ['createdAt', 'updatedAt'])
      expect(rec[f]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
  });
});

describe('window field', () => {
  async function runChangingAfterWindow(
    field: 'created' | 'updated',
  ): Promise<{ seen: boolean; id: string }> {
    const s = await sim({ windowField: field, records: 30000 });
    // A run that is open now, created in the last 6 hours (the clock moves on until there is one).
    const openRuns = (): Promise<Rec[]> =>
      readAll(s.baseUrl, '/pipeline_runs', { ...win(s, 6 * HOUR), status: 'RUNNING,CREATED' });
    let recent = await openRuns();
    for (let i = 0; i < 300 && recent.length === 0; i++) {
      s.clock.advance(5 * 60000);
      recent = await openRuns();
    }
    expect(recent.length).toBeGreaterThan(0);
    const run = recent[0];
    const cursor = s.clock.now().getTime();
    s.clock.advance(2 * DAY);
    const later = {
      time_from: new Date(cursor).toISOString(),
      time_to: s.clock.now().toISOString(),
    };
    const rows = await readAll(s.baseUrl, '/pipeline_runs', later);
    return { seen: rows.some((r) => r.id === run.id), id: run.id as string };
  }

  test('created: a run that finishes later does not show up in a later window', async () => {
    expect((await runChangingAfterWindow('created')).seen).toBe(false);
  });

  test('updated: the same run shows up again in the window of its last update', async () => {
    expect((await runChangingAfterWindow('updated')).seen).toBe(true);
  });
});

describe('retention', () => {
  test('list endpoints serve only the last 7 days; the truth keeps everything', async () => {
    const s = await sim();
    const old = win(s, DAY, 7 * DAY + HOUR);
    const visible = await page(s.baseUrl, '/pipeline_runs', win(s, DAY, 5 * DAY));
    expect(visible.total).toBeGreaterThan(0);
    expect((await page(s.baseUrl, '/pipeline_runs', old)).total).toBe(0);
    const oldest = s.truth('pipeline_runs')[0];
    expect(toUs(oldest.createdAt as string)).toBeLessThan(
      (s.clock.now().getTime() - 7 * DAY) * 1000,
    );
    // Data inside the retention today expires as the clock moves on; the truth keeps it.
    const fiveDaysAgo = win(s, DAY, 5 * DAY);
    s.clock.advance(3 * DAY);
    expect((await page(s.baseUrl, '/pipeline_runs', fiveDaysAgo)).total).toBe(0);
    const from = toUs(fiveDaysAgo.time_from.replace('Z', '+00:00'));
    const to = toUs(fiveDaysAgo.time_to.replace('Z', '+00:00'));
    const kept = s
      .truth('pipeline_runs')
      .filter((r) => toUs(r.createdAt as string) >= from && toUs(r.createdAt as string) <= to);
    expect(kept.length).toBe(visible.total);
  });

  test('--retention-days 0 keeps everything servable', async () => {
    const s = await sim({ retentionDays: 0 });
    expect(
      (await page(s.baseUrl, '/pipeline_runs', win(s, DAY, 7 * DAY + HOUR))).total,
    ).toBeGreaterThan(0);
  });

  test('--records sets the volume served within the retention at start', async () => {
    for (const records of [500, 20000]) {
      const s = await sim({ records });
      let total = 0;
      for (const p of ['/pipeline_runs', '/task_runs', '/operations'])
        total += (await page(s.baseUrl, p, win(s))).total;
      expect({ records, ok: total > records * 0.7 && total < records * 1.3 }).toEqual({
        records,
        ok: true,
      });
    }
  });
});

describe('order and optional fields', () => {
  test('asc and desc sort on the window field; shuffled is stable between requests but unsorted', async () => {
    const key = (r: Rec): number => toUs(r.createdAt as string);
    const sorted = (rows: Rec[], dir: number): boolean =>
      rows.every((r, i) => i === 0 || dir * (key(r) - key(rows[i - 1])) >= 0);
    const asc = await sim({ order: 'asc' });
    expect(sorted(await readAll(asc.baseUrl, '/task_runs', win(asc)), 1)).toBe(true);
    const desc = await sim({ order: 'desc' });
    expect(sorted(await readAll(desc.baseUrl, '/task_runs', win(desc)), -1)).toBe(true);
    const shuf = await sim({ order: 'shuffled' });
    const a = await readAll(shuf.baseUrl, '/task_runs', win(shuf));
    expect(sorted(a, 1) || sorted(a, -1)).toBe(false);
    expect(ids(a)).toEqual(ids(await readAll(asc.baseUrl, '/task_runs', win(asc))));
    expect((await readAll(shuf.baseUrl, '/task_runs', win(shuf))).map((r) => r.id)).toEqual(
      a.map((r) => r.id),
    );
    const upd = await sim({ order: 'asc', windowField: 'updated' });
    const byUpdated = await readAll(upd.baseUrl, '/pipeline_runs', win(upd));
    expect(
      byUpdated.every(
        (r, i) =>
          i === 0 || toUs(r.updatedAt as string) >= toUs(byUpdated[i - 1].updatedAt as string),
      ),
    ).toBe(true);
  });

  test('optional fields are sent as null, or omitted with --optional omit (required ones never are)', async () => {
    const withNull = await sim({ optional: 'null' });
    const omitting = await sim({ optional: 'omit' });
    const a = await readAll(withNull.baseUrl, '/pipeline_runs', win(withNull));
    const b = await readAll(omitting.baseUrl, '/pipeline_runs', win(omitting));
    expect(a.some((r) => r.anomalies === null)).toBe(true);
    expect(b.some((r) => !('anomalies' in r))).toBe(true);
    expect(b.every((r) => 'pipelineName' in r && 'message' in r && 'updatedAt' in r)).toBe(true);
    // Omitted means omitted at every depth (as FastAPI's exclude_none does): otherwise the same records.
    const dropNulls = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(dropNulls)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .filter(([, x]) => x !== null)
                .map(([k, x]) => [k, dropNulls(x)]),
            )
          : v;
    expect(JSON.stringify(b.map(dropNulls))).toBe(JSON.stringify(a.map(dropNulls)));
  });
});
