/** Auth, pagination, windows and validation errors behave as the real API (FastAPI) does. */
import { startSimulator, SimulatorHandle } from '../src';
import { DAY, HOUR, KEY, get, page } from './helpers';

const START = '2026-02-10T06:00:00Z';
let sim: SimulatorHandle;
let now: number;

beforeAll(async () => {
  sim = await startSimulator({ seed: 21, clock: 'manual', start: START, records: 4000 });
  now = sim.clock.now().getTime();
});
afterAll(() => sim.close());

const win = (fromMs: number, toMs: number): Record<string, string> => ({
  time_from: new Date(fromMs).toISOString(),
  time_to: new Date(toMs).toISOString(),
});

interface Detail {
  detail: { loc: (string | number)[]; msg: string; type: string }[];
}

function expect422(body: unknown, param: string, type?: string): void {
  const d = (body as Detail).detail;
  expect(Array.isArray(d)).toBe(true);
  const hit = d.find((e) => e.loc[0] === 'query' && e.loc[1] === param);
  expect(hit).toBeDefined();
  if (type) expect(hit?.type).toBe(type);
  expect(hit?.msg.length).toBeGreaterThan(10);
}

describe('auth', () => {
  test('missing, malformed and wrong keys get 401 with {"detail": "..."}', async () => {
    const variants: Record<string, string>[] = [
      {},
      { Authorization: KEY },
      { Authorization: 'Bearer wrong' },
      { Authorization: 'Basic abc' },
    ];
    for (const headers of variants) {
      const r = await get(sim.baseUrl + '/task_runs', {}, headers);
      expect({ headers, status: r.status }).toEqual({ headers, status: 401 });
      expect(r.json).toEqual({ detail: expect.any(String) });
    }
  });

  test('several keys can be accepted, and a non-enterprise switch makes every key 403', async () => {
    const s = await startSimulator({
      clock: 'manual',
      start: START,
      records: 50,
      apiKeys: ['k1', 'k2'],
      nonEnterprise: true,
    });
    try {
      const r = await get(s.baseUrl + '/pipeline_runs', {}, { Authorization: 'Bearer k2' });
      expect(r.status).toBe(403);
      expect((r.json as { detail: string }).detail).toMatch(/Enterprise/);
      expect(
        (await get(s.baseUrl + '/pipeline_runs', {}, { Authorization: 'Bearer k3' })).status,
      ).toBe(401);
      s.configure({ nonEnterprise: false });
      expect(
        (await get(s.baseUrl + '/pipeline_runs', {}, { Authorization: 'Bearer k1' })).status,
      ).toBe(200);
    } finally {
      await s.close();
    }
  });

  test('a multi-account key needs X-Orchestra-Account-Id (400 without it)', async () => {
    const s = await startSimulator({
      clock: 'manual',
      start: START,
      records: 50,
      multiAccount: true,
    });
    try {
      const without = await get(s.baseUrl + '/operations');
      expect(without.status).toBe(400);
      expect((without.json as { detail: string }).detail).toMatch(/X-Orchestra-Account-Id/);
      const withHeader = await get(
        s.baseUrl + '/operations',
        {},
        { Authorization: `Bearer ${KEY}`, 'X-Orchestra-Account-Id': s.accountId },
      );
      expect(withHeader.status).toBe(200);
    } finally {
      await s.close();
    }
    // Without the switch the header is accepted and ignored.
    const r = await get(
      sim.baseUrl + '/operations',
      {},
      { Authorization: `Bearer ${KEY}`, 'X-Orchestra-Account-Id': sim.accountId },
    );
    expect(r.status).toBe(200);
  });
});

describe('pagination', () => {
  test('page_size defaults to 50, accepts 1..100, and unknown parameters like per_page are ignored', async () => {
    expect((await page(sim.baseUrl, '/pipeline_runs')).pageSize).toBe(50);
    const perPage = await page(sim.baseUrl, '/pipeline_runs', { per_page: 100 });
    expect(perPage.pageSize).toBe(50);
    expect(perPage.results.length).toBe(50);
    expect((await page(sim.baseUrl, '/pipeline_runs', { page_size: 1 })).results.length).toBe(1);
    expect((await page(sim.baseUrl, '/pipeline_runs', { page_size: 100 })).results.length).toBe(
      100,
    );
  });

  test('page and page_size violations and malformed integers are 422 with a FastAPI body', async () => {
    const cases: [Record<string, string | number>, string, string][] = [
      [{ page_size: 101 }, 'page_size', 'less_than_equal'],
      [{ page_size: 0 }, 'page_size', 'greater_than_equal'],
      [{ page: 0 }, 'page', 'greater_than_equal'],
      [{ page: 'two' }, 'page', 'int_parsing'],
      [{ page_size: '1.5' }, 'page_size', 'int_parsing'],
    ];
    for (const [params, param, type] of cases) {
      const r = await get(sim.baseUrl + '/pipeline_runs', params);
      expect({ params, status: r.status }).toEqual({ params, status: 422 });
      expect422(r.json, param, type);
    }
  });

  test('pages past the end are empty with the same total; total counts records, not pages', async () => {
    const w = win(now - 7 * DAY, now);
    const first = await page(sim.baseUrl, '/task_runs', { ...w, page_size: 100 });
    const last = Math.ceil(first.total / 100);
    const lastPage = await page(sim.baseUrl, '/task_runs', { ...w, page_size: 100, page: last });
    expect(lastPage.results.length).toBe(first.total - (last - 1) * 100);
    const past = await page(sim.baseUrl, '/task_runs', { ...w, page_size: 100, page: last + 1 });
    expect(past).toEqual({ page: last + 1, pageSize: 100, total: first.total, results: [] });
  });

  test('the nested task-runs endpoint pages by 10 by default and at most 50', async () => {
    const run = (await page(sim.baseUrl, '/pipeline_runs', { page_size: 1 })).results[0];
    const p = `/pipeline_runs/${run.id as string}/task_runs`;
    expect((await page(sim.baseUrl, p)).pageSize).toBe(10);
    expect((await get(sim.baseUrl + p, { page_size: 51 })).status).toBe(422);
    const bad = await get(sim.baseUrl + '/pipeline_runs/not-a-uuid/task_runs');
    expect(bad.status).toBe(422);
    const unknown = await get(
      sim.baseUrl + '/pipeline_runs/4f0c8d9e-1b2a-4c3d-8e4f-5a6b7c8d9e0f/task_runs',
    );
    expect(unknown.status).toBe(404);
  });
});

describe('time window', () => {
  test('without a window: the last 7 days of pipeline runs, the last 24 hours of task runs and operations', async () => {
    for (const [path, span] of [
      ['/pipeline_runs', 7 * DAY],
      ['/task_runs', DAY],
      ['/operations', DAY],
    ] as const) {
      const dflt = await page(sim.baseUrl, path, { page_size: 1 });
      const explicit = await page(sim.baseUrl, path, { ...win(now - span, now), page_size: 1 });
      expect({ path, total: dflt.total }).toEqual({ path, total: explicit.total });
    }
    const day = await page(sim.baseUrl, '/task_runs', { page_size: 1 });
    const week = await page(sim.baseUrl, '/task_runs', {
      ...win(now - 7 * DAY, now),
      page_size: 1,
    });
    expect(week.total).toBeGreaterThan(day.total * 3);
  });

  test('only one bound is a 422 naming the missing one', async () => {
    const onlyFrom = await get(sim.baseUrl + '/pipeline_runs', {
      time_from: new Date(now - DAY).toISOString(),
    });
    expect(onlyFrom.status).toBe(422);
    expect422(onlyFrom.json, 'time_to', 'value_error');
    const onlyTo = await get(sim.baseUrl + '/operations', { time_to: new Date(now).toISOString() });
    expect(onlyTo.status).toBe(422);
    expect422(onlyTo.json, 'time_from', 'value_error');
  });

  test('a window over 7 days is a 422 by default, and clamped to the last 7 days with --wide-window clamp', async () => {
    const wide = win(now - 8 * DAY, now);
    const r = await get(sim.baseUrl + '/pipeline_runs', wide);
    expect(r.status).toBe(422);
    expect422(r.json, 'time_to', 'value_error');
    expect((await get(sim.baseUrl + '/pipeline_runs', win(now - 7 * DAY, now))).status).toBe(200);
    sim.configure({ wideWindow: 'clamp' });
    try {
      const clamped = await page(sim.baseUrl, '/pipeline_runs', { ...wide, page_size: 1 });
      const seven = await page(sim.baseUrl, '/pipeline_runs', {
        ...win(now - 7 * DAY, now),
        page_size: 1,
      });
      expect(clamped.total).toBe(seven.total);
    } finally {
      sim.configure({ wideWindow: 'reject' });
    }
  });

  test('malformed date-times are 422, including a "+00:00" offset sent without URL-encoding', async () => {
    const bad = await get(sim.baseUrl + '/task_runs', {
      time_from: 'last tuesday',
      time_to: new Date(now).toISOString(),
    });
    expect(bad.status).toBe(422);
    expect422(bad.json, 'time_from', 'datetime_from_date_parsing');
    const raw = `${sim.baseUrl}/task_runs?time_from=2026-02-09T06:00:00+00:00&time_to=2026-02-10T06:00:00%2B00:00`;
    const res = await fetch(raw, { headers: { Authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(422);
    expect422(await res.json(), 'time_from');
    // Z, explicit offsets, microseconds and plain dates are all accepted.
    for (const [from, to] of [
      ['2026-02-09T06:00:00Z', '2026-02-10T06:00:00Z'],
      ['2026-02-09T07:00:00.123456+01:00', '2026-02-10T06:00:00.000000+00:00'],
      ['2026-02-09', '2026-02-10'],
    ]) {
      expect((await get(sim.baseUrl + '/task_runs', { time_from: from, time_to: to })).status).toBe(
        200,
      );
    }
  });

  test('bounds are inclusive on the window field', async () => {
    const rows = (
      await page(sim.baseUrl, '/pipeline_runs', { ...win(now - 2 * DAY, now), page_size: 3 })
    ).results;
    const t = rows[1].createdAt as string;
    const exact = await page(sim.baseUrl, '/pipeline_runs', { time_from: t, time_to: t });
    expect(exact.results.map((r) => r.id)).toEqual([rows[1].id]);
  });

  test('time_from after time_to is a 422', async () => {
    const r = await get(sim.baseUrl + '/operations', win(now, now - HOUR));
    expect(r.status).toBe(422);
    expect422(r.json, 'time_from', 'value_error');
  });
});

describe('filter validation', () => {
  test('a malformed UUID in an id list is 422; an unknown status is 400; an operation status outside the enum is 422', async () => {
    const w = win(now - DAY, now);
    for (const [path, param] of [
      ['/pipeline_runs', 'pipeline_ids'],
      ['/pipeline_runs', 'pipeline_run_ids'],
      ['/pipeline_runs', 'environments'],
      ['/task_runs', 'pipeline_ids'],
      ['/task_runs', 'task_run_ids'],
      ['/operations', 'task_run_id'],
    ]) {
      const r = await get(sim.baseUrl + path, {
        ...w,
        [param]: '4f0c8d9e-1b2a-4c3d-8e4f-5a6b7c8d9e0f,12345',
      });
      expect({ path, param, status: r.status }).toEqual({ path, param, status: 422 });
      expect422(r.json, param, 'uuid_parsing');
    }
    const status = await get(sim.baseUrl + '/pipeline_runs', { ...w, status: 'SUCCEEDED,DONE' });
    expect(status.status).toBe(400);
    expect((status.json as { detail: string }).detail).toMatch(/DONE/);
    const opStatus = await get(sim.baseUrl + '/operations', { ...w, status: 'RUNNING' });
    expect(opStatus.status).toBe(422);
    expect422(opStatus.json, 'status', 'enum');
    const opInteg = await get(sim.baseUrl + '/operations', {
      ...w,
      integration: 'NOT_AN_INTEGRATION',
    });
    expect(opInteg.status).toBe(422);
    expect422(opInteg.json, 'integration', 'enum');
    const sup = await get(sim.baseUrl + '/task_runs', { ...w, include_superseded: 'maybe' });
    expect(sup.status).toBe(422);
    expect422(sup.json, 'include_superseded', 'bool_parsing');
  });

  test('unknown paths are 404 and other methods 405, with {"detail": "..."}', async () => {
    expect((await get(sim.baseUrl + '/pipelines_runs')).status).toBe(404);
    const post = await fetch(sim.baseUrl + '/pipeline_runs', {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}` },
    });
    expect(post.status).toBe(405);
    expect(await post.json()).toEqual({ detail: 'Method Not Allowed' });
  });

  test('routing comes before auth (404 without a key), and a trailing slash redirects as FastAPI does', async () => {
    const unknown = await get(sim.baseUrl + '/nope', {}, {});
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ detail: 'Not Found' });
    const slash = await fetch(sim.baseUrl + '/task_runs/?page_size=3', { redirect: 'manual' });
    expect(slash.status).toBe(307);
    expect(slash.headers.get('location')).toBe('/api/engine/public/task_runs?page_size=3');
  });

  test('the nested endpoint ignores list filters it does not document', async () => {
    const run = (await page(sim.baseUrl, '/pipeline_runs', { page_size: 1 })).results[0];
    const p = `/pipeline_runs/${run.id as string}/task_runs`;
    expect(await page(sim.baseUrl, p, { status: 'NOT_A_STATUS' })).toEqual(
      await page(sim.baseUrl, p),
    );
  });
});
