/** Every filter of the three list endpoints selects exactly what the ground truth says it should. */
import { startSimulator, SimulatorHandle } from '../src';
import { DAY, Rec, ids, readAll, toUs } from './helpers';

let sim: SimulatorHandle;
let window: Record<string, string>;
let fromUs: number;
let truth: Record<string, Rec[]>;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 31,
    clock: 'manual',
    start: '2026-02-10T06:00:00Z',
    records: 6000,
  });
  const now = sim.clock.now().getTime();
  window = {
    time_from: new Date(now - 7 * DAY).toISOString(),
    time_to: new Date(now).toISOString(),
  };
  fromUs = (now - 7 * DAY) * 1000;
  const inWindow = (field: string) => (r: Rec) => toUs(r[field] as string) >= fromUs;
  truth = {
    pipeline_runs: sim.truth('pipeline_runs').filter(inWindow('createdAt')),
    task_runs: sim.truth('task_runs').filter(inWindow('createdAt')),
    task_runs_latest: sim
      .truth('task_runs', { includeSuperseded: false })
      .filter(inWindow('createdAt')),
    operations: sim.truth('operations').filter(inWindow('insertedAt')),
  };
});
afterAll(() => sim.close());

async function expectFilter(
  path: string,
  params: Record<string, string | boolean>,
  expected: Rec[],
): Promise<Rec[]> {
  // A filter that matches nothing proves little: every case here selects some records.
  expect({ params, expected: expected.length > 0 }).toEqual({ params, expected: true });
  const got = await readAll(sim.baseUrl, path, { ...window, ...params });
  expect({ params, ids: ids(got) }).toEqual({ params, ids: ids(expected) });
  return got;
}

function distinct(rows: Rec[], field: string): string[] {
  return [...new Set(rows.map((r) => r[field] as string))].sort();
}

describe('pipeline runs filters', () => {
  test('status takes a comma list', async () => {
    const want = ['SUCCEEDED', 'FAILED'];
    await expectFilter(
      '/pipeline_runs',
      { status: want.join(',') },
      truth.pipeline_runs.filter((r) => want.includes(r.runStatus as string)),
    );
  });

  test('pipeline_ids selects runs of the listed pipelines', async () => {
    const pick = distinct(truth.pipeline_runs, 'pipelineId').slice(0, 2);
    await expectFilter(
      '/pipeline_runs',
      { pipeline_ids: pick.join(',') },
      truth.pipeline_runs.filter((r) => pick.includes(r.pipelineId as string)),
    );
  });

  test('pipeline_run_ids selects exactly the listed runs; unknown ids match nothing', async () => {
    const pick = truth.pipeline_runs.slice(3, 6);
    await expectFilter(
      '/pipeline_runs',
      { pipeline_run_ids: [...ids(pick), '4f0c8d9e-1b2a-4c3d-8e4f-5a6b7c8d9e0f'].join(',') },
      pick,
    );
  });

  test('environments selects runs of the listed environment ids', async () => {
    const env = distinct(truth.pipeline_runs, 'envId')[0];
    await expectFilter(
      '/pipeline_runs',
      { environments: env },
      truth.pipeline_runs.filter((r) => r.envId === env),
    );
  });
});

describe('task runs filters', () => {
  test('superseded attempts are hidden by default and shown with include_superseded=true', async () => {
    const superseded = truth.task_runs.length - truth.task_runs_latest.length;
    expect(superseded).toBeGreaterThan(0);
    await expectFilter('/task_runs', {}, truth.task_runs_latest);
    await expectFilter('/task_runs', { include_superseded: true }, truth.task_runs);
  });

  test('a superseded attempt has a later attempt of the same task in the same run', () => {
    const latest = new Set(ids(truth.task_runs_latest));
    const hidden = truth.task_runs.filter((r) => !latest.has(r.id as string));
    for (const h of hidden) {
      const later = truth.task_runs.find(
        (r) =>
          r.pipelineRunId === h.pipelineRunId &&
          r.taskId === h.taskId &&
          (r.numberOfAttempts as number) > (h.numberOfAttempts as number),
      );
      expect({ hidden: h.id, later: later !== undefined }).toEqual({ hidden: h.id, later: true });
      expect(h.status).toBe('FAILED');
    }
  });

  test('status, pipeline_ids and integration (comma lists) combine', async () => {
    const rows = truth.task_runs_latest;
    const pipelines = distinct(rows, 'pipelineId').slice(0, 3);
    const integrations = distinct(rows, 'integration').slice(0, 2);
    await expectFilter(
      '/task_runs',
      { status: 'SUCCEEDED,WARNING' },
      rows.filter((r) => ['SUCCEEDED', 'WARNING'].includes(r.status as string)),
    );
    await expectFilter(
      '/task_runs',
      { pipeline_ids: pipelines.join(',') },
      rows.filter((r) => pipelines.includes(r.pipelineId as string)),
    );
    await expectFilter(
      '/task_runs',
      { integration: integrations.join(',') },
      rows.filter((r) => integrations.includes(r.integration as string)),
    );
    await expectFilter(
      '/task_runs',
      { integration: integrations.join(','), status: 'SUCCEEDED' },
      rows.filter(
        (r) => integrations.includes(r.integration as string) && r.status === 'SUCCEEDED',
      ),
    );
  });

  test('task_run_ids selects exactly the listed task runs, superseded ones only with include_superseded', async () => {
    const latest = new Set(ids(truth.task_runs_latest));
    const hidden = truth.task_runs.filter((r) => !latest.has(r.id as string)).slice(0, 1);
    const shown = truth.task_runs_latest.slice(10, 13);
    await expectFilter('/task_runs', { task_run_ids: ids([...shown, ...hidden]).join(',') }, shown);
    await expectFilter(
      '/task_runs',
      { task_run_ids: ids([...shown, ...hidden]).join(','), include_superseded: true },
      [...shown, ...hidden],
    );
  });

  test('pipeline_run_ids is not a task-runs filter: it is ignored', async () => {
    await expectFilter(
      '/task_runs',
      { pipeline_run_ids: truth.pipeline_runs[0].id as string },
      truth.task_runs_latest,
    );
  });
});

describe('operations filters', () => {
  const ops = (): Rec[] => truth.operations;

  test('operation_type takes a comma list', async () => {
    const types = distinct(ops(), 'operationType').slice(0, 2);
    await expectFilter(
      '/operations',
      { operation_type: types.join(',') },
      ops().filter((r) => types.includes(r.operationType as string)),
    );
  });

  test('integration, status, task_run_id and external_id are single values', async () => {
    const integ = distinct(ops(), 'integration')[0];
    await expectFilter(
      '/operations',
      { integration: integ },
      ops().filter((r) => r.integration === integ),
    );
    await expectFilter(
      '/operations',
      { status: 'FAILED' },
      ops().filter((r) => r.operationStatus === 'FAILED'),
    );
    const task = ops()[5].taskRunId as string;
    await expectFilter(
      '/operations',
      { task_run_id: task },
      ops().filter((r) => r.taskRunId === task),
    );
    const ext = ops()[7].externalId as string;
    await expectFilter(
      '/operations',
      { external_id: ext },
      ops().filter((r) => r.externalId === ext),
    );
  });
});

describe('the nested endpoint', () => {
  test('/pipeline_runs/{id}/task_runs lists the run task runs without a window', async () => {
    const run = truth.pipeline_runs.find((r) =>
      truth.task_runs_latest.some((t) => t.pipelineRunId === r.id),
    );
    if (!run) throw new Error('no run with task runs in the window');
    const got = await readAll(sim.baseUrl, `/pipeline_runs/${run.id as string}/task_runs`, {
      page_size: 50,
    });
    expect(ids(got)).toEqual(ids(truth.task_runs_latest.filter((t) => t.pipelineRunId === run.id)));
  });
});
