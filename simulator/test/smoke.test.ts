import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { startSimulator, SimulatorHandle } from '../src';
import { DAY, HOUR, get, page, readAll } from './helpers';

const START = '2026-03-02T12:00:00Z';

describe('simulator smoke', () => {
  let sim: SimulatorHandle;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 7, clock: 'manual', start: START, records: 3000 });
  });
  afterAll(() => sim.close());

  test('serves the three list endpoints with the documented envelope', async () => {
    for (const p of ['/pipeline_runs', '/task_runs', '/operations']) {
      const body = await page(sim.baseUrl, p);
      expect(Object.keys(body).sort()).toEqual(['page', 'pageSize', 'results', 'total']);
      expect(body.pageSize).toBe(50);
      expect(body.total).toBeGreaterThan(0);
      expect(body.results.length).toBe(Math.min(50, body.total));
    }
  });

  test('a missing or wrong key gets 401 with a FastAPI detail body', async () => {
    const none = await get(sim.baseUrl + '/pipeline_runs', {}, {});
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ detail: expect.any(String) });
    const wrong = await get(sim.baseUrl + '/pipeline_runs', {}, { Authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
  });

  test('every response carries the simulated clock in the Date header', async () => {
    const r = await get(sim.baseUrl + '/operations');
    expect(new Date(r.headers.get('date') ?? '').toISOString()).toBe(new Date(START).toISOString());
  });

  test('paging a 7-day window returns each record exactly once and matches the truth', async () => {
    const now = sim.clock.now().getTime();
    const from = new Date(now - 7 * DAY).toISOString();
    const to = new Date(now).toISOString();
    const rows = await readAll(sim.baseUrl, '/pipeline_runs', { time_from: from, time_to: to });
    const ids = rows.map((r) => r.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    const truth = sim
      .truth('pipeline_runs')
      .filter((r) => (r.createdAt as string) >= from.replace('Z', ''));
    expect(ids.sort()).toEqual(truth.map((r) => r.id as string).sort());
  });

  test('id filters find runs, and statuses move when the clock advances', async () => {
    let running = await page(sim.baseUrl, '/pipeline_runs', { status: 'RUNNING,CREATED' });
    for (let i = 0; i < 200 && running.total === 0; i++) {
      sim.clock.advance(5 * 60000);
      running = await page(sim.baseUrl, '/pipeline_runs', { status: 'RUNNING,CREATED' });
    }
    expect(running.total).toBeGreaterThan(0);
    const run = running.results[0];
    expect(['RUNNING', 'CREATED']).toContain(run.runStatus);
    const now = sim.clock.now().getTime();
    const params = {
      pipeline_run_ids: run.id as string,
      time_from: new Date(now - 7 * DAY).toISOString(),
      time_to: new Date(now).toISOString(),
    };
    const before = await page(sim.baseUrl, '/pipeline_runs', params);
    expect(before.results.map((r) => r.id)).toEqual([run.id]);
    sim.clock.advance(2 * DAY);
    const later = sim.clock.now().getTime();
    const after = await page(sim.baseUrl, '/pipeline_runs', {
      ...params,
      time_from: new Date(later - 7 * DAY).toISOString(),
      time_to: new Date(later).toISOString(),
    });
    expect(after.results[0].runStatus).not.toBe(run.runStatus);
    expect(after.results[0].updatedAt).not.toBe(run.updatedAt);
    const tasks = await page(sim.baseUrl, `/pipeline_runs/${run.id as string}/task_runs`);
    expect(tasks.pageSize).toBe(10);
    for (const t of tasks.results) expect(t.pipelineRunId).toBe(run.id);
  });

  test('the control API advances the clock and serves truth and stats', async () => {
    const before = sim.clock.now().getTime();
    const adv = await fetch(sim.rootUrl + '/_sim/advance?ms=' + HOUR, { method: 'POST' });
    expect(((await adv.json()) as { now: string }).now).toBe(new Date(before + HOUR).toISOString());
    const truth = (await (await fetch(sim.rootUrl + '/_sim/truth/operations')).json()) as unknown[];
    expect(truth.length).toBe(sim.truth('operations').length);
    const stats = (await (await fetch(sim.rootUrl + '/_sim/stats')).json()) as { total: number };
    expect(stats.total).toBeGreaterThan(0);
  });
});

describe('the default wall clock', () => {
  test('follows real time, with history generated up to now', async () => {
    const wall = await startSimulator({ seed: 2, records: 3000 });
    try {
      const first = await get(wall.baseUrl + '/pipeline_runs');
      const served = Date.parse(first.headers.get('date') ?? '');
      expect(Math.abs(served - Date.now())).toBeLessThan(2000);
      const newest = wall.truth('pipeline_runs').map((r) => Date.parse(r.createdAt as string));
      expect(Math.max(...newest)).toBeLessThanOrEqual(Date.now());
      expect(Math.max(...newest)).toBeGreaterThan(Date.now() - DAY);
      await new Promise((r) => setTimeout(r, 1100));
      const later = await get(wall.baseUrl + '/pipeline_runs');
      expect(Date.parse(later.headers.get('date') ?? '')).toBeGreaterThan(served);
    } finally {
      await wall.close();
    }
  });
});

describe('simulator CLI', () => {
  test('prints the listening line first and serves until killed', async () => {
    // Through the package's bin (what `npx orchestra-simulator` runs), which loads lib/cli.js.
    const cli = path.join(__dirname, '../bin/orchestra-simulator');
    const child = spawn(process.execPath, [cli, '--port', '0', '--seed', '3', '--records', '200'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (c: Buffer) => {
          buf += c.toString();
          const nl = buf.indexOf('\n');
          if (nl >= 0) resolve(buf.slice(0, nl));
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      expect(line).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\/api\/engine\/public$/);
      const base = line.slice('listening on '.length);
      const body = await page(base, '/task_runs');
      expect(body.total).toBeGreaterThanOrEqual(0);
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('--help lists every switch and scenario; a bad switch exits 2 naming it', () => {
    const cli = path.join(__dirname, '../lib/cli.js');
    const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    // Named after the package's bin, the command users type.
    expect(help.stdout).toMatch(/^Usage: orchestra-simulator \[options\]/);
    const switches = [
      '--port',
      '--host',
      '--seed',
      '--scenario',
      '--clock',
      '--start',
      '--records',
      '--window-field',
      '--order',
      '--optional',
      '--api-key',
      '--rate-limit',
      '--retry-after',
      '--retention-days',
      '--wide-window',
      '--multi-account',
      '--non-enterprise',
      '--hang-ms',
      '--slow-ms',
      '--fault',
      '--history-days',
      '--request-log-size',
      '--verbose',
    ];
    for (const sw of switches)
      expect({ sw, listed: help.stdout.includes(sw) }).toEqual({ sw, listed: true });
    for (const sc of ['calm', 'realistic', 'hostile']) expect(help.stdout).toContain(sc);
    const bad = spawnSync(process.execPath, [cli, '--rate-limit', 'lots'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--rate-limit/);
    const badFault = spawnSync(process.execPath, [cli, '--fault', 'explode=0.1'], {
      encoding: 'utf8',
    });
    expect(badFault.status).toBe(2);
    expect(badFault.stderr).toMatch(/unknown fault "explode"/);
  });
});
