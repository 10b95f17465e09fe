/**
 * The hostile scenario is survivable: a client with a sane retry policy (timeouts, backoff, Retry-After,
 * re-reading suspicious pages) and the incremental algorithm of the design (windows from the cursor with a
 * look-back, open ids re-fetched by id) ends a 14-simulated-day soak holding exactly the ground truth.
 */
import { startSimulator } from '../src';
import { DAY, HOUR, KEY, Rec, toUs } from './helpers';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Envelope {
  total: number;
  pageSize: number;
  results: Rec[];
}

class Client {
  requests = 0;
  retries = 0;
  constructor(private readonly base: string) {}

  async page(path: string, params: Record<string, string | number | boolean>): Promise<Envelope> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
    for (let attempt = 0; attempt < 15; attempt++) {
      if (attempt > 0) this.retries++;
      this.requests++;
      try {
        const res = await fetch(url, {
          headers: { Authorization: `Bearer ${KEY}` },
          signal: AbortSignal.timeout(1500),
        });
        const text = await res.text();
        if (res.status === 429) {
          const ra = res.headers.get('retry-after');
          const date = res.headers.get('date');
          let wait = 250;
          if (ra && /^\d+$/.test(ra)) wait = Number(ra) * 1000;
          else if (ra && date) wait = Date.parse(ra) - Date.parse(date);
          await sleep(Math.min(Math.max(wait, 50), 5000));
          continue;
        }
        if (res.status >= 500) {
          await sleep(20 * 2 ** Math.min(attempt, 5));
          continue;
        }
        if (res.status !== 200) throw new Error(`GET ${path} -> ${res.status}: ${text}`);
        const body = JSON.parse(text) as Envelope;
        const page = Number(params.page ?? 1);
        // An empty page while total says there are more is a glitch, not the end.
        if (body.results.length === 0 && (page - 1) * body.pageSize < body.total) continue;
        return body;
      } catch (err) {
        if (err instanceof Error && /-> \d{3}:/.test(err.message)) throw err;
        await sleep(20 * 2 ** Math.min(attempt, 5));
      }
    }
    throw new Error(`GET ${path} failed 15 times`);
  }

  async *all(path: string, params: Record<string, string | number | boolean>): AsyncGenerator<Rec> {
    for (let page = 1; ; page++) {
      const body = await this.page(path, { ...params, page, page_size: 100 });
      yield* body.results;
      if (body.results.length < body.pageSize || page * body.pageSize >= body.total) return;
    }
  }
}

const STREAMS = [
  {
    path: '/pipeline_runs',
    name: 'pipeline_runs',
    status: 'runStatus',
    open: ['CREATED', 'RUNNING', 'CANCELLING'],
    idFilter: 'pipeline_run_ids',
  },
  {
    path: '/task_runs',
    name: 'task_runs',
    status: 'status',
    open: ['CREATED', 'QUEUED', 'RUNNING', 'CANCELLING'],
    idFilter: 'task_run_ids',
  },
  { path: '/operations', name: 'operations', status: 'operationStatus', open: [], idFilter: null },
] as const;

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

test('a sane client survives 14 simulated days of the hostile scenario and holds exactly the truth', async () => {
  const sim = await startSimulator({
    scenario: 'hostile',
    seed: 61,
    clock: 'manual',
    start: '2026-02-10T06:00:00Z',
    records: 3000,
    hangMs: 2000,
  });
  try {
    const client = new Client(sim.baseUrl);
    const firstFrom = sim.clock.now().getTime() - 7 * DAY + 10 * 60000;
    const stored: Record<string, Map<string, Rec>> = {
      pipeline_runs: new Map(),
      task_runs: new Map(),
      operations: new Map(),
    };
    const cursor: Record<string, number> = {};
    const openIds: Record<string, Set<string>> = {
      pipeline_runs: new Set(),
      task_runs: new Set(),
      operations: new Set(),
    };
    for (let day = 0; day <= 14; day++) {
      const now = sim.clock.now().getTime();
      for (const st of STREAMS) {
        const from = Math.max(
          cursor[st.name] === undefined ? firstFrom : cursor[st.name] - HOUR,
          now - 7 * DAY + 10 * 60000,
        );
        const keep = (r: Rec): void => {
          stored[st.name].set(r.id as string, r);
          if ((st.open as readonly string[]).includes(r[st.status] as string))
            openIds[st.name].add(r.id as string);
          else openIds[st.name].delete(r.id as string);
        };
        const window = {
          time_from: new Date(from).toISOString(),
          time_to: new Date(now).toISOString(),
          include_superseded: true,
        };
        for await (const r of client.all(st.path, window)) keep(r);
        if (st.idFilter) {
          const pending = [...openIds[st.name]];
          for (let i = 0; i < pending.length; i += 50) {
            const idWindow = {
              ...window,
              time_from: new Date(now - 7 * DAY + 10 * 60000).toISOString(),
              [st.idFilter]: pending.slice(i, i + 50).join(','),
            };
            for await (const r of client.all(st.path, idWindow)) keep(r);
          }
        }
        cursor[st.name] = now;
      }
      if (day < 14) sim.clock.advance(DAY);
    }
    const problems: string[] = [];
    for (const st of STREAMS) {
      const field = st.name === 'operations' ? 'insertedAt' : 'createdAt';
      const truth = sim.truth(st.name).filter((r) => toUs(r[field] as string) >= firstFrom * 1000);
      expect(truth.length).toBeGreaterThan(100);
      for (const t of truth) {
        const got = stored[st.name].get(t.id as string);
        if (!got) problems.push(`${st.name} ${String(t.id)} missing`);
        else if (JSON.stringify(dropNulls(got)) !== JSON.stringify(dropNulls(t)))
          problems.push(`${st.name} ${String(t.id)} stale`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    // The faults really happened.
    const faults = sim.counters.byFault;
    for (const f of ['serverError', 'rateLimited', 'truncated', 'reset', 'emptyPage', 'duplicate'])
      expect({ f, n: (faults[f] ?? 0) > 0 }).toEqual({ f, n: true });
    expect(client.retries).toBeGreaterThan(5);
  } finally {
    await sim.close();
  }
}, 240000);
