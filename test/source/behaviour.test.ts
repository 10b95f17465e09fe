import http from 'http';
import { AddressInfo } from 'net';

import { SimulatorHandle, startSimulator } from 'orchestra-api-simulator';
import { logsOf, nextState, recordsOf, statesOf } from '../helpers/messages';
import { syncInProcess } from '../helpers/sync';
import { truthRecords } from '../helpers/truth';

const START = '2026-03-10T12:00:00Z';
/** A well-formed run id the API does not know (deleted, or aged out). */
const GONE = '00000000-0000-4000-8000-000000000000';
const DAY = 86_400_000;

describe('incremental behaviour against the simulator', () => {
  let sim: SimulatorHandle;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 17, clock: 'manual', start: START, records: 1500 });
  });
  afterEach(() => sim.resetStats());
  afterAll(() => sim.close());

  const config = (extra: object = {}) => ({
    api_url: sim.baseUrl,
    requests_per_minute: 100000,
    ...extra,
  });

  it('warns loudly, with the hours lost, when the saved cursor is older than the retention', async () => {
    const cursor = new Date(Date.parse(START) - 9 * DAY).toISOString();
    const state = [
      {
        type: 'STREAM',
        stream: {
          stream_descriptor: { name: 'operations' },
          stream_state: { cursor, open_ids: [] },
        },
      },
    ];
    const result = await syncInProcess(config(), state, { streams: ['operations'] });
    const warnings = logsOf(result.messages, 'WARN');
    // 9 days old, 7 days (minus a 10-minute margin) still served: 48.2 hours gone.
    expect(warnings).toEqual([
      expect.stringMatching(
        /older than the 7 days .*: 48\.2 hours of operations .* are lost for good/,
      ),
    ]);
    expect(recordsOf(result.messages).length).toBeGreaterThan(0);
  });

  it('always sends both time bounds, at most 7 days apart, including on re-fetches by id', async () => {
    const running = truthRecords(sim, 'pipeline_runs')
      .slice(0, 3)
      .map((r) => r.id as string);
    const state = [
      {
        type: 'STREAM',
        stream: {
          stream_descriptor: { name: 'pipeline_runs' },
          stream_state: {
            cursor: new Date(Date.parse(START) - DAY).toISOString(),
            open_ids: [...running, GONE],
          },
        },
      },
    ];
    const result = await syncInProcess(config(), state, { streams: ['pipeline_runs'] });
    const list = sim.requestLog.filter((r) => r.endpoint === 'pipeline_runs');
    const refetches = list.filter((r) => r.query.pipeline_run_ids);
    expect(refetches).toHaveLength(1);
    expect(refetches[0].query.pipeline_run_ids.split(',').sort()).toEqual(
      [...running, GONE].sort(),
    );
    for (const r of list) {
      const from = Date.parse(r.query.time_from);
      const to = Date.parse(r.query.time_to);
      expect({ from: Number.isNaN(from), to: Number.isNaN(to) }).toEqual({
        from: false,
        to: false,
      });
      expect(to - from).toBeLessThanOrEqual(7 * DAY);
      expect(Number(r.query.page_size)).toBeLessThanOrEqual(100);
    }
    // Finished or missing runs are no longer followed.
    const final = statesOf(result.messages, 'pipeline_runs').pop()?.state.stream.stream_state;
    expect(final.open_ids).not.toContain(GONE);
  });

  it('sends the pipeline and environment filters to the streams that support them', async () => {
    const runs = truthRecords(sim, 'pipeline_runs');
    const pipeline = runs[0].pipeline_id as string;
    const env = runs[0].env_id as string;
    const result = await syncInProcess(
      config({ pipeline_ids: [pipeline], environments: [env], include_superseded: true }),
      [],
    );
    const byEndpoint = (e: string) =>
      sim.requestLog.filter((r) => r.endpoint === e && r.query.time_from);
    for (const r of byEndpoint('pipeline_runs').slice(1)) {
      expect(r.query).toMatchObject({ pipeline_ids: pipeline, environments: env });
    }
    for (const r of byEndpoint('task_runs')) {
      expect(r.query).toMatchObject({ pipeline_ids: pipeline, include_superseded: 'true' });
      expect(r.query.environments).toBeUndefined();
    }
    for (const r of byEndpoint('operations')) expect(r.query.pipeline_ids).toBeUndefined();
    const others = recordsOf(result.messages, 'pipeline_runs').filter(
      (r) => r.pipeline_id !== pipeline,
    );
    expect(others).toEqual([]);
    expect(recordsOf(result.messages, 'pipeline_runs').length).toBeGreaterThan(0);
  });

  it('checkpoints each completed window, with state that resumes where it stopped', async () => {
    const result = await syncInProcess(config({ window_hours: 12 }), [], {
      streams: ['operations'],
    });
    const cursors = statesOf(result.messages, 'operations').map(
      (m) => m.state.stream.stream_state.cursor as string,
    );
    // About 7 days in 12-hour windows: one checkpoint per window, cursors moving forward.
    expect(cursors.length).toBeGreaterThanOrEqual(14);
    expect([...cursors].sort()).toEqual(cursors);
    expect(nextState(result.messages)).toHaveLength(1);
  });
});

/**
 * A purpose-built API (the simulator has no equal timestamps): 60 task runs stamped on exactly
 * the same microsecond, which is also a window boundary, spread over several pages, with
 * exclusive bounds on both ends (the least forgiving reading of time_from/time_to).
 */
describe('ties on equal timestamps', () => {
  const TIE = '2026-03-10T06:00:00.000000+00:00';
  const records = [
    ...Array.from({ length: 60 }, (_, i) => ({
      id: `tie-${i}`,
      createdAt: TIE,
      updatedAt: TIE,
      status: 'SUCCEEDED',
    })),
    ...Array.from({ length: 40 }, (_, i) => {
      const at = new Date(Date.parse('2026-03-10T01:00:00Z') + i * 600_000)
        .toISOString()
        .replace('Z', '000+00:00');
      return { id: `other-${i}`, createdAt: at, updatedAt: at, status: 'SUCCEEDED' };
    }),
  ];
  // Ties come in an arbitrary but repeatable order, as a database would serve them.
  const hash = (s: string) => [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  let server: http.Server;
  let baseUrl: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const from = Date.parse(url.searchParams.get('time_from') ?? '');
      const to = Date.parse(url.searchParams.get('time_to') ?? '');
      const page = Number(url.searchParams.get('page') ?? 1);
      const size = Number(url.searchParams.get('page_size') ?? 50);
      const matching = url.pathname.endsWith('/task_runs')
        ? records
            .filter((r) => Date.parse(r.createdAt) > from && Date.parse(r.createdAt) < to)
            .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || hash(a.id) - hash(b.id))
        : [];
      res.writeHead(200, {
        'Content-Type': 'application/json',
        Date: new Date(START).toUTCString(),
      });
      res.end(
        JSON.stringify({
          page,
          pageSize: size,
          total: matching.length,
          results: matching.slice((page - 1) * size, page * size),
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/engine/public`;
  });
  afterAll(() => server.close());

  it('lose nothing at a window boundary or across pages, even with exclusive bounds', async () => {
    const result = await syncInProcess(
      {
        api_url: baseUrl,
        requests_per_minute: 100000,
        start_date: '2026-03-10T00:00:00Z',
        window_hours: 6,
        page_size: 7,
        pages_in_flight: 3,
      },
      [],
      { streams: ['task_runs'] },
    );
    expect(result.failed).toBe(false);
    const ids = new Set(recordsOf(result.messages, 'task_runs').map((r) => r.id));
    const missing = records.map((r) => r.id).filter((id) => !ids.has(id));
    expect(missing).toEqual([]);
  });
});
