/**
 * The simulated workspace: one account, its environments and pipelines (with their task DAGs and
 * schedules). Pipelines are sized so the list endpoints serve about `records` records in 7 days.
 */
import { ENVIRONMENTS, JOB_KINDS, JobKind, PIPELINE_WORDS_A, PIPELINE_WORDS_B } from './catalog';
import { KIND, US_PER_DAY, US_PER_SECOND } from './constants';
import { Rng, encodeUuid, plainUuid } from './prng';
import { World } from './world';

export interface TaskDef {
  slot: number;
  taskId: string;
  name: string;
  kind: JobKind;
  layer: number;
  dependsOn: string[];
  failRate: number;
  warnRate: number;
  retries: number;
  retryDelaySec: number;
  medianSec: number;
  paramsJson: string;
  nameJson: string;
  taskIdJson: string;
  dependsOnJson: string;
  /** Runs as a matrix iteration (its task runs carry a matrixParentId). */
  matrixChild: boolean;
  connectionId: string | null;
  computeResourceId: string | null;
}

export interface PipelineDef {
  idx: number;
  id: string;
  name: string | null;
  envIdx: number;
  intervalUs: number;
  phaseUs: number;
  tasks: TaskDef[];
  /** tasks indexed by slot. */
  taskBySlot: TaskDef[];
  layers: number;
  nameJson: string;
  branchJson: string;
  gitLinkJson: string;
  versionNumber: number;
  branch: string;
  commit: string;
  gitLink: string;
  cron: string;
  scheduleName: string;
  /** Task durations are multiplied by this; a few pipelines run for more than a day. */
  durationFactor: number;
  dataJson: string;
  expectedRecordsPerRun: number;
}

export interface Environment {
  idx: number;
  id: string;
  name: string;
  nameJson: string;
}

export interface Workspace {
  accountId: string;
  environments: Environment[];
  pipelines: PipelineDef[];
}

const MAX_PIPELINES = 1000;

function cronFor(intervalUs: number): string {
  const minutes = Math.max(1, Math.round(intervalUs / (60 * US_PER_SECOND)));
  if (minutes < 60) return `*/${minutes} * * * *`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `0 */${hours} * * *`;
  return '0 2 * * *';
}

function makePipeline(seed: number, idx: number): PipelineDef {
  const rng = new Rng(seed, idx, 4001);
  const nTasks = rng.chance(0.15) ? rng.int(8, 16) : rng.int(1, 6);
  const layers = Math.min(nTasks, rng.int(1, 4));
  const tasks: TaskDef[] = [];
  for (let slot = 0; slot < nTasks; slot++) {
    const kind = rng.pick(JOB_KINDS);
    const layer = slot < layers ? slot : rng.int(0, layers - 1);
    const taskId = `${kind.integration.toLowerCase()}_${slot + 1}`;
    const params: Record<string, unknown> =
      kind.integration === 'DBT_CORE'
        ? { command: 'dbt build --select tag:' + rng.pick(['daily', 'hourly', 'finance']) }
        : kind.integration === 'SNOWFLAKE'
          ? { statement: 'CALL refresh_' + slot + '()', warehouse: 'TRANSFORMING' }
          : { timeout_seconds: rng.int(60, 7200) };
    tasks.push({
      slot,
      taskId,
      name: rng.pick(kind.taskNames),
      kind,
      layer,
      dependsOn: [],
      failRate: rng.chance(0.2) ? 0.15 : 0.03,
      warnRate: 0.04,
      retries: rng.chance(0.5) ? rng.int(1, 2) : 0,
      retryDelaySec: rng.int(5, 120),
      medianSec: kind.medianSeconds * rng.range(0.5, 1.5),
      paramsJson: JSON.stringify(params),
      nameJson: '',
      taskIdJson: JSON.stringify(taskId),
      dependsOnJson: '[]',
      matrixChild: rng.chance(0.05),
      connectionId: rng.chance(0.8)
        ? `${kind.integration.toLowerCase()}_${rng.int(10000, 99999)}`
        : null,
      computeResourceId: rng.chance(0.2) ? plainUuid(seed, idx, slot, 4002) : null,
    });
  }
  tasks.sort((a, b) => a.layer - b.layer || a.slot - b.slot);
  for (const t of tasks) {
    t.dependsOn = tasks.filter((u) => u.layer === t.layer - 1).map((u) => u.taskId);
    t.dependsOnJson = JSON.stringify(t.dependsOn);
    t.nameJson = JSON.stringify(t.name);
  }
  const taskBySlot: TaskDef[] = [];
  for (const t of tasks) taskBySlot[t.slot] = t;
  const expectedOps = tasks.reduce((s, t) => s + (t.kind.ops[0] + t.kind.ops[1]) / 2, 0);
  const expectedRetries = tasks.reduce((s, t) => s + (t.retries > 0 ? t.failRate : 0), 0);
  const name = rng.chance(0.03)
    ? null
    : `${rng.pick(PIPELINE_WORDS_A)}_${rng.pick(PIPELINE_WORDS_B)}_${idx + 1}`;
  const commit = (plainUuid(seed, idx, 4003) + plainUuid(seed, idx, 4004))
    .replace(/-/g, '')
    .slice(0, 40);
  const branch = rng.chance(0.9) ? 'main' : 'release';
  const gitLink = `https://github.com/acme/data-pipelines/blob/${commit}/pipelines/${name ?? 'p' + idx}.yml`;
  return {
    idx,
    id: encodeUuid(seed, KIND.pipeline, idx),
    name,
    envIdx: rng.chance(0.7) ? 0 : rng.int(1, ENVIRONMENTS.length - 1),
    intervalUs: 0,
    phaseUs: 0,
    tasks,
    taskBySlot,
    layers,
    nameJson: JSON.stringify(name),
    branchJson: JSON.stringify(branch),
    gitLinkJson: JSON.stringify(gitLink),
    versionNumber: rng.int(1, 40),
    branch,
    commit,
    gitLink,
    cron: '',
    scheduleName: '',
    durationFactor: rng.chance(0.05) ? rng.range(3, 8) : 1,
    dataJson: '',
    expectedRecordsPerRun: 1 + tasks.length + expectedRetries + expectedOps * (1 + expectedRetries),
  };
}

function pipelineData(p: PipelineDef, environments: Environment[]): string {
  const groups: Record<string, unknown> = {};
  for (let layer = 0; layer < p.layers; layer++) {
    const tasks: Record<string, unknown> = {};
    for (const t of p.tasks.filter((u) => u.layer === layer)) {
      tasks[t.taskId] = {
        integration: t.kind.integration,
        integrationJob: t.kind.job,
        parameters: JSON.parse(t.paramsJson),
        dependsOn: [],
        name: t.name,
        connection: t.connectionId,
        configuration: t.retries > 0 ? { retries: t.retries, retryDelay: t.retryDelaySec } : null,
      };
    }
    groups[`group_${layer + 1}`] = {
      tasks,
      dependsOn: layer > 0 ? [`group_${layer}`] : [],
      name: `Stage ${layer + 1}`,
    };
  }
  return JSON.stringify({
    version: 'v1',
    name: (p.name ?? `pipeline_${p.idx}`).slice(0, 100),
    pipeline: groups,
    schedule: [
      {
        name: p.scheduleName,
        cron: p.cron,
        timezone: 'UTC',
        environment: environments[p.envIdx].id,
        branch: p.branch,
      },
    ],
    webhook: { enabled: false },
    configuration: { retries: 0, timeout: 86400 },
    environment: {
      WAREHOUSE: { type: 'string', value: 'TRANSFORMING' },
      FULL_REFRESH: { type: 'bool', value: false },
    },
  });
}

/** Build the workspace for a seed and a target volume (records served within 7 days). */
export function buildWorkspace(seed: number, records: number): Workspace {
  const environments = ENVIRONMENTS.map((name, idx) => ({
    idx,
    id: encodeUuid(seed, KIND.environment, idx),
    name,
    nameJson: JSON.stringify(name),
  }));
  const accountId = encodeUuid(seed, KIND.account, 0);
  if (records <= 0) return { accountId, environments, pipelines: [] };
  const probe = Array.from({ length: 20 }, (_, i) => makePipeline(seed, i));
  for (const p of probe) p.expectedRecordsPerRun = World.recordsPerRun(seed, p);
  const avgRecords = probe.reduce((s, p) => s + p.expectedRecordsPerRun, 0) / probe.length;
  const runsPerDay = records / 7 / avgRecords;
  // About one run per pipeline per hour on average, as a busy workspace has.
  const count = Math.max(1, Math.min(MAX_PIPELINES, Math.ceil(runsPerDay / 24)));
  const pipelines = Array.from({ length: count }, (_, i) => {
    if (probe[i]) return probe[i];
    const p = makePipeline(seed, i);
    p.expectedRecordsPerRun = World.recordsPerRun(seed, p, 8);
    return p;
  });
  const rng = new Rng(seed, 4010);
  const weights = pipelines.map(() => rng.logNormal(1, 0.7));
  const perWeight = pipelines.reduce((s, p, i) => s + weights[i] * p.expectedRecordsPerRun, 0);
  const k = records / 7 / perWeight; // runs per day per unit of weight
  for (let i = 0; i < pipelines.length; i++) {
    const p = pipelines[i];
    const perDay = k * weights[i];
    p.intervalUs = Math.round(
      Math.min(30 * US_PER_DAY, Math.max(60 * US_PER_SECOND, US_PER_DAY / perDay)),
    );
    p.phaseUs = Math.floor(new Rng(seed, i, 4011).next() * p.intervalUs);
    p.cron = cronFor(p.intervalUs);
    p.scheduleName = p.intervalUs < 3600 * US_PER_SECOND ? 'Frequent' : 'Scheduled';
    p.dataJson = pipelineData(p, environments);
  }
  return { accountId, environments, pipelines };
}
