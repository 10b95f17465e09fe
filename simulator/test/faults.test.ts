/** Rate limits and injected faults: what a client must survive, seeded and controllable at run time. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startSimulator, SimulatorHandle } from '../src';
import { KEY, get, ids, readAll } from './helpers';

const START = '2026-02-10T06:00:00Z';
const open: SimulatorHandle[] = [];
async function sim(o: Parameters<typeof startSimulator>[0] = {}): Promise<SimulatorHandle> {
  const s = await startSimulator({ seed: 51, clock: 'manual', start: START, records: 3000, ...o });
  open.push(s);
  return s;
}
afterAll(async () => {
  for (const s of open) await s.close();
});

describe('rate limit', () => {
  test('N requests per minute per key, then 429 with a numeric Retry-After; other keys are unaffected', async () => {
    const s = await sim({ rateLimit: 3, apiKeys: ['a', 'b'] });
    const auth = (k: string): Record<string, string> => ({ Authorization: `Bearer ${k}` });
    for (let i = 0; i < 3; i++)
      expect((await get(s.baseUrl + '/task_runs', {}, auth('a'))).status).toBe(200);
    const limited = await get(s.baseUrl + '/task_runs', {}, auth('a'));
    expect(limited.status).toBe(429);
    expect((limited.json as { detail: string }).detail).toMatch(/wait/);
    const ra = Number(limited.headers.get('retry-after'));
    expect(ra).toBeGreaterThan(0);
    expect(ra).toBeLessThanOrEqual(60);
    expect((await get(s.baseUrl + '/task_runs', {}, auth('b'))).status).toBe(200);
    expect(s.counters.byEndpoint.task_runs['429']).toBe(1);
  });

  test('Retry-After can be an HTTP date (from the simulated clock) or missing', async () => {
    const s = await sim({ rateLimit: 1, retryAfter: 'date' });
    await get(s.baseUrl + '/operations');
    const dated = await get(s.baseUrl + '/operations');
    expect(dated.status).toBe(429);
    const when = Date.parse(dated.headers.get('retry-after') ?? '');
    expect(when).toBeGreaterThan(Date.parse(dated.headers.get('date') ?? ''));
    s.configure({ retryAfter: 'none' });
    const bare = await get(s.baseUrl + '/operations');
    expect(bare.status).toBe(429);
    expect(bare.headers.get('retry-after')).toBeNull();
  });
});

describe('injected faults', () => {
  let s: SimulatorHandle;
  beforeAll(async () => {
    s = await sim({ slowMs: 300, hangMs: 600 });
  });
  const url = (): string => s.baseUrl + '/pipeline_runs';

  test('5xx: JSON 500/503 bodies and nginx-style HTML 502/504 pages, with the Date header', async () => {
    s.inject([{ fault: 'serverError', count: 1, status: 502 }]);
    const html = await get(url());
    expect(html.status).toBe(502);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(html.text).toMatch(/502 Bad Gateway/);
    expect(html.headers.get('date')).toBe(new Date(START).toUTCString());
    s.inject([{ fault: 'serverError', count: 1, status: 500 }]);
    const json = await get(url());
    expect(json.status).toBe(500);
    expect(json.json).toEqual({ detail: 'Internal Server Error' });
    expect((await get(url())).status).toBe(200);
  });

  test('429 from a fault, outside the rate limit', async () => {
    s.inject([{ fault: 'rateLimited', count: 1 }]);
    expect((await get(url())).status).toBe(429);
  });

  test('a slow response arrives after slowMs', async () => {
    s.inject([{ fault: 'slow', count: 1 }]);
    const t = Date.now();
    expect((await get(url())).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
  });

  test('a connection reset mid-body fails the request', async () => {
    s.inject([{ fault: 'reset', count: 1 }]);
    await expect(get(url())).rejects.toThrow();
    expect((await get(url())).status).toBe(200);
  });

  test('a truncated body is a 200 whose JSON does not parse', async () => {
    s.inject([{ fault: 'truncated', count: 1 }]);
    const r = await get(url());
    expect(r.status).toBe(200);
    expect(r.json).toBeUndefined();
    expect(() => JSON.parse(r.text)).toThrow();
  });

  test('a never-answered request hits the client timeout, and the connection drops after hangMs', async () => {
    s.inject([{ fault: 'hang', count: 2 }]);
    const auth = { Authorization: `Bearer ${KEY}` };
    await expect(
      fetch(url(), { headers: auth, signal: AbortSignal.timeout(150) }),
    ).rejects.toThrow();
    const t = Date.now();
    await expect(fetch(url(), { headers: auth })).rejects.toThrow();
    expect(Date.now() - t).toBeGreaterThanOrEqual(550);
  });

  test('an empty page while total says there are more', async () => {
    s.inject([{ fault: 'emptyPage', count: 1 }]);
    const r = (await get(url(), { page_size: 10 })).json as { total: number; results: unknown[] };
    expect(r.results).toEqual([]);
    expect(r.total).toBeGreaterThan(10);
  });

  test('the same record on two consecutive pages', async () => {
    const p1 = (await get(url(), { page_size: 10, page: 1 })).json as { results: { id: string }[] };
    s.inject([{ fault: 'duplicate', count: 1 }]);
    const p2 = (await get(url(), { page_size: 10, page: 2 })).json as { results: { id: string }[] };
    expect(p2.results[0].id).toBe(p1.results[9].id);
  });

  test('shifting pages repeat records across pages but never lose one', async () => {
    const s2 = await sim({ seed: 52 });
    const before = await readAll(s2.baseUrl, '/task_runs', { page_size: 20 });
    s2.inject([{ fault: 'shift', count: 1, endpoint: 'task_runs' }]);
    const after: Record<string, unknown>[] = [];
    for (let p = 1; ; p++) {
      const r = (await get(s2.baseUrl + '/task_runs', { page_size: 20, page: p })).json as {
        results: Record<string, unknown>[];
        total: number;
      };
      after.push(...r.results);
      if (p * 20 >= r.total) break;
    }
    expect(after.length).toBeGreaterThan(before.length);
    expect([...new Set(ids(after))]).toEqual(ids(before));
  });

  test('faults can be forced through POST /_sim/config', async () => {
    const r = await fetch(s.rootUrl + '/_sim/config', {
      method: 'POST',
      body: JSON.stringify({
        inject: [{ fault: 'serverError', count: 2, status: 503, endpoint: 'operations' }],
      }),
    });
    expect(r.status).toBe(200);
    expect((await get(url())).status).toBe(200);
    expect((await get(s.baseUrl + '/operations')).status).toBe(503);
    expect((await get(s.baseUrl + '/operations')).status).toBe(503);
    expect((await get(s.baseUrl + '/operations')).status).toBe(200);
    const bad = await fetch(s.rootUrl + '/_sim/config', {
      method: 'POST',
      body: JSON.stringify({ inject: [{ fault: 'explode', count: 1 }] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/unknown fault "explode"/);
  });
});

describe('seeded fault rates per endpoint', () => {
  async function statuses(): Promise<number[][]> {
    const s = await sim({ faults: { perEndpoint: { task_runs: { serverError: 0.4 } } } });
    const out: number[][] = [[], []];
    for (let i = 0; i < 40; i++) {
      out[0].push((await get(s.baseUrl + '/pipeline_runs', { page_size: 1 })).status);
      out[1].push((await get(s.baseUrl + '/task_runs', { page_size: 1 })).status);
    }
    return out;
  }

  test('only the configured endpoint fails, at about the configured rate, identically for the same seed', async () => {
    const [pr, tr] = await statuses();
    expect(pr.every((st) => st === 200)).toBe(true);
    const failed = tr.filter((st) => st >= 500).length;
    expect(failed).toBeGreaterThan(6);
    expect(failed).toBeLessThan(30);
    expect(await statuses()).toEqual([pr, tr]);
  });
});

describe('scenarios and run-time configuration', () => {
  test('POST /_sim/config switches scenario: hostile brings its shuffled order and omitted optionals', async () => {
    const s = await sim();
    const r = await fetch(s.rootUrl + '/_sim/config', {
      method: 'POST',
      body: JSON.stringify({ scenario: 'hostile', faults: { rates: { hang: 0 } } }),
    });
    const info = (await r.json()) as {
      options: {
        order: string;
        optional: string;
        rateLimit: number;
        faults: { rates: { hang: number; serverError: number } };
      };
    };
    expect(info.options.order).toBe('shuffled');
    expect(info.options.optional).toBe('omit');
    expect(info.options.rateLimit).toBe(300);
    expect(info.options.faults.rates.hang).toBe(0);
    expect(info.options.faults.rates.serverError).toBeGreaterThan(0);
    const fixed = await fetch(s.rootUrl + '/_sim/config', {
      method: 'POST',
      body: JSON.stringify({ seed: 3 }),
    });
    expect(fixed.status).toBe(400);
  });
});

describe('observability', () => {
  test('the request log and counters record method, path, query, status and duration per endpoint', async () => {
    const s = await sim();
    await get(s.baseUrl + '/task_runs', { page_size: 7 });
    await get(s.baseUrl + '/task_runs', { page_size: 700 });
    await get(s.baseUrl + '/operations', {}, {});
    const last = s.requestLog[s.requestLog.length - 3];
    expect(last).toMatchObject({
      method: 'GET',
      path: '/api/engine/public/task_runs',
      query: { page_size: '7' },
      endpoint: 'task_runs',
      status: 200,
    });
    expect(typeof last.durationMs).toBe('number');
    expect(s.counters.byEndpoint).toEqual({
      task_runs: { '200': 1, '422': 1 },
      operations: { '401': 1 },
    });
    const stats = (await (await fetch(s.rootUrl + '/_sim/stats')).json()) as { total: number };
    expect(stats.total).toBe(3);
    const log = (await (await fetch(s.rootUrl + '/_sim/requests?limit=2')).json()) as unknown[];
    expect(log.length).toBe(2);
  });

  test('the API key never appears in the log, the control API or the CLI output', async () => {
    const canary = 'canary-key-0d9f8e7c6b5a';
    const s = await sim({ apiKeys: [canary] });
    await get(s.baseUrl + '/pipeline_runs', {}, { Authorization: `Bearer ${canary}` });
    await get(s.baseUrl + '/pipeline_runs', {}, { Authorization: `Bearer ${canary}x` });
    expect(JSON.stringify(s.requestLog)).not.toContain('canary');
    for (const p of ['/_sim/requests', '/_sim/info', '/_sim/stats']) {
      expect(await (await fetch(s.rootUrl + p)).text()).not.toContain('canary');
    }
    const cli = path.join(__dirname, '../lib/cli.js');
    const child = spawn(
      process.execPath,
      [cli, '--port', '0', '--records', '100', '--api-key', canary, '--verbose'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const base = await new Promise<string>((resolve) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
    });
    await get(base + '/task_runs', {}, { Authorization: `Bearer ${canary}` });
    await get(base + '/task_runs', {}, { Authorization: `Bearer wrong-${canary}` });
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(out).toMatch(/task_runs/);
    expect(out).not.toContain('canary');
  });
});
