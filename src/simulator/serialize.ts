/**
 * Records as the API sends them (camelCase JSON), built as strings: the list endpoints serialize
 * hundreds of thousands of records per second, and JSON.stringify of objects would be the bottleneck.
 * Every value written here comes from a fixed vocabulary or is escaped with JSON.stringify.
 */
import { EXTERNAL_STATUS, OP_NAMES, PIPELINE_MESSAGES, TASK_MESSAGES } from './catalog';
import { KIND, OPERATION_STATUSES, PIPELINE_STATUSES, TASK_STATUSES } from './constants';
import { OptionalMode } from './options';
import { QuickRng, encodeUuid, hash, plainUuid } from './prng';
import { OP, TR, World } from './world';

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const dayPrefixes = new Map<number, string>();

function dayPrefix(day: number): string {
  let p = dayPrefixes.get(day);
  if (p === undefined) {
    p = new Date(day * 86400000).toISOString().slice(0, 11);
    dayPrefixes.set(day, p);
  }
  return p;
}

/** `2025-05-01T11:16:39.421992+00:00` from integer microseconds (Date#toISOString is too slow here). */
export function isoUs(us: number): string {
  const sec = Math.floor(us / 1e6);
  const micro = us - sec * 1e6;
  const day = Math.floor(sec / 86400);
  let sod = sec - day * 86400;
  const h = Math.floor(sod / 3600);
  sod -= h * 3600;
  const m = Math.floor(sod / 60);
  const ms = Math.floor(micro / 1000);
  return (
    dayPrefix(day) +
    PAD2[h] +
    ':' +
    PAD2[m] +
    ':' +
    PAD2[sod - m * 60] +
    '.' +
    PAD3[ms] +
    PAD3[micro - ms * 1000] +
    '+00:00'
  );
}

const q = (s: string): string => JSON.stringify(s);
const quoteAll = (m: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, q(v)]));
const PIPELINE_MESSAGES_JSON = PIPELINE_STATUSES.map((st) => q(PIPELINE_MESSAGES[st]));
const TASK_MESSAGES_JSON = TASK_STATUSES.map((st) => q(TASK_MESSAGES[st]));
const EXTERNAL_STATUS_JSON = quoteAll(EXTERNAL_STATUS);
const OP_NAMES_JSON = OP_NAMES.map(q);
const DEPENDENCIES_JSON = OP_NAMES.map((n) => JSON.stringify([n]));
const META_JSON = OP_NAMES.map((n) => JSON.stringify({ node_id: `model.acme.${n}` }));
const PAD6 = (n: number): string => PAD3[Math.floor(n / 1000)] + PAD3[n % 1000];

/** A decimal JSON number from integer millionths, without float-to-string conversion. */
function micros(n: number): string {
  const whole = Math.floor(n / 1e6);
  return whole + '.' + PAD6(n - whole * 1e6);
}

class Out {
  s = '{';
  first = true;
  constructor(private readonly omit: boolean) {}
  /** A required property: always written. */
  req(key: string, json: string): void {
    this.s += (this.first ? '"' : ',"') + key + '":' + json;
    this.first = false;
  }
  /** An optional (non-required) property: null values are omitted in `omit` mode. */
  opt(key: string, json: string | null): void {
    if (json === null) {
      if (this.omit) return;
      json = 'null';
    }
    this.req(key, json);
  }
  done(): string {
    return this.s + '}';
  }
}

/** An operation's external id (also what the `external_id` filter matches). */
export function externalId(integration: string, opName: string, opKey: number): string {
  return integration.toLowerCase() + '.' + opName + '.' + opKey.toString(36);
}

const TRIGGERS = ['SCHEDULED', 'MANUAL', 'WEBHOOK', 'SENSOR', 'TRIGGER_EVENT'];

export class Serializer {
  private readonly omit: boolean;
  /** Per pipeline: the JSON of fields that never change between its runs. */
  private readonly triggerCache = new Map<number, string>();

  constructor(
    private readonly world: World,
    optional: OptionalMode,
  ) {
    this.omit = optional === 'omit';
  }

  private nested(obj: Record<string, unknown>): string {
    if (!this.omit) return JSON.stringify(obj);
    const clean: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (v !== null) clean[k] = v;
    return JSON.stringify(clean);
  }

  private triggeredBy(i: number): string {
    const w = this.world;
    const p = w.ws.pipelines[w.runs.pipeline.data[i]];
    const variant = (w.runs.flags.data[i] >> 1) & 7;
    const cacheKey = p.idx * 8 + variant;
    if (variant < 3) {
      const hit = this.triggerCache.get(cacheKey);
      if (hit) return hit;
    }
    const base: Record<string, unknown> = {
      triggerType: TRIGGERS[variant],
      integration: null,
      scheduleName: null,
      scheduleCron: null,
      scheduleTimezone: null,
      pipelineName: null,
      pipelineId: null,
      pipelineRunId: null,
      userId: null,
      runTaskIds: null,
      runOperationIds: null,
      continueDownstreamRun: null,
      sensorName: null,
      sensorRunId: null,
      wildcardParent: null,
    };
    if (variant === 0)
      Object.assign(base, {
        scheduleName: p.scheduleName,
        scheduleCron: p.cron,
        scheduleTimezone: 'UTC',
      });
    if (variant === 1) base.userId = plainUuid(w.seed, p.idx, 501);
    if (variant === 3)
      Object.assign(base, {
        sensorName: 'new_files_in_s3',
        sensorRunId: plainUuid(w.seed, w.runKey(i), 502),
        integration: 'AWS_S3',
      });
    if (variant === 4) {
      const parent = w.ws.pipelines[(p.idx + 1) % w.ws.pipelines.length];
      Object.assign(base, {
        pipelineName: parent.name,
        pipelineId: parent.id,
        pipelineRunId: plainUuid(w.seed, w.runKey(i), 503),
        continueDownstreamRun: true,
        wildcardParent: false,
      });
    }
    const json = '[' + this.nested(base) + ']';
    if (variant < 3) this.triggerCache.set(cacheKey, json);
    return json;
  }

  // Records of one run (and operations of one task) are usually adjacent: remember the last parent id.
  private lastRun = -1;
  private lastRunId = '';
  private lastTask = -1;
  private lastTaskId = '';

  pipelineRunId(i: number): string {
    if (i !== this.lastRun) {
      this.lastRunId = encodeUuid(this.world.seed, KIND.pipelineRun, this.world.runKey(i));
      this.lastRun = i;
    }
    return this.lastRunId;
  }

  taskRunId(i: number): string {
    if (i !== this.lastTask) {
      this.lastTaskId = encodeUuid(this.world.seed, KIND.taskRun, this.world.taskKey(i));
      this.lastTask = i;
    }
    return this.lastTaskId;
  }

  pipelineRun(i: number, now: number): string {
    const w = this.world;
    const r = w.runs;
    const p = w.ws.pipelines[r.pipeline.data[i]];
    const env = w.ws.environments[p.envIdx];
    const status = w.runStatus(i, now);
    const done = now >= r.end.data[i];
    const anomaly = done && (r.flags.data[i] & 1) === 1;
    const o = new Out(this.omit);
    o.req('id', '"' + this.pipelineRunId(i) + '"');
    o.req('pipelineId', '"' + p.id + '"');
    o.req('pipelineName', p.nameJson);
    o.req('accountId', '"' + w.ws.accountId + '"');
    o.opt('envId', '"' + env.id + '"');
    o.opt('envName', env.nameJson);
    o.req('runStatus', '"' + PIPELINE_STATUSES[status] + '"');
    o.opt('hasAnomalies', done ? String(anomaly) : null);
    if (anomaly) {
      const dur = Math.round((r.end.data[i] - r.started.data[i]) / 1e6) || 1;
      const data = {
        type: 'pipeline_duration_above_baseline',
        percentage_above_baseline: 1 + (hash(w.seed, w.runKey(i), 601) % 100),
        threshold_seconds: Math.round(dur / 1.6),
        compared_runs: 10 + (hash(w.seed, w.runKey(i), 602) % 20),
        observed_seconds: dur,
      };
      o.opt(
        'anomalies',
        JSON.stringify({ [plainUuid(w.seed, w.runKey(i), 603)]: { type: data.type, data } }),
      );
    } else {
      o.opt('anomalies', null);
    }
    o.req('triggeredBy', this.triggeredBy(i));
    o.req('childPipelineRuns', '[]');
    o.req('message', PIPELINE_MESSAGES_JSON[status]);
    o.opt('pipelineVersionNumber', String(p.versionNumber));
    o.req('createdAt', '"' + isoUs(r.created.data[i]) + '"');
    o.req('updatedAt', '"' + isoUs(w.runUpdated(i, now)) + '"');
    o.opt('completedAt', done ? '"' + isoUs(r.end.data[i]) + '"' : null);
    o.opt('startedAt', now >= r.started.data[i] ? '"' + isoUs(r.started.data[i]) + '"' : null);
    o.opt('branch', p.branchJson);
    o.opt('commit', '"' + p.commit + '"');
    o.opt('gitLink', p.gitLinkJson);
    o.opt('data', p.dataJson);
    return o.done();
  }

  taskRun(i: number, now: number): string {
    const w = this.world;
    const t = w.tasks;
    const run = t.run.data[i];
    const p = w.ws.pipelines[w.runs.pipeline.data[run]];
    const def = p.taskBySlot[t.slot.data[i]];
    const status = w.taskStatus(i, now);
    const name = TASK_STATUSES[status];
    const id = this.taskRunId(i);
    const started = now >= t.running.data[i];
    const o = new Out(this.omit);
    o.req('id', '"' + id + '"');
    o.req('pipelineRunId', '"' + this.pipelineRunId(run) + '"');
    o.req('taskName', def.nameJson);
    o.req('taskId', def.taskIdJson);
    o.req('accountId', '"' + w.ws.accountId + '"');
    o.req('pipelineId', '"' + p.id + '"');
    o.req('integration', '"' + def.kind.integration + '"');
    o.req('integrationJob', '"' + def.kind.job + '"');
    o.req('status', '"' + name + '"');
    o.opt('message', TASK_MESSAGES_JSON[status]);
    o.opt('externalStatus', started ? EXTERNAL_STATUS_JSON[name] : null);
    o.opt('externalMessage', status === TR.FAILED ? q('Job exited with code 1') : null);
    o.opt('taskParameters', def.paramsJson);
    o.opt('runParameters', '{}');
    o.opt('connectionId', def.connectionId === null ? null : '"' + def.connectionId + '"');
    o.opt(
      'computeResourceId',
      def.computeResourceId === null ? null : '"' + def.computeResourceId + '"',
    );
    o.opt(
      'platformLink',
      started
        ? q(`https://app.getorchestra.io/pipeline-runs/${this.pipelineRunId(run)}/tasks/${id}`)
        : null,
    );
    o.opt('numberOfAttempts', String(t.attempt.data[i]));
    // A few task definitions run as matrix iterations under a parent task run.
    o.opt('matrixParent', 'false');
    o.opt(
      'matrixParentId',
      def.matrixChild ? '"' + plainUuid(w.seed, w.runKey(run), def.slot, 4005) + '"' : null,
    );
    o.req('createdAt', '"' + isoUs(t.created.data[i]) + '"');
    o.req('updatedAt', '"' + isoUs(w.taskUpdated(i, now)) + '"');
    o.opt('completedAt', now >= t.end.data[i] ? '"' + isoUs(t.end.data[i]) + '"' : null);
    o.opt('startedAt', started ? '"' + isoUs(t.running.data[i]) + '"' : null);
    o.opt('dependsOn', def.dependsOnJson);
    return o.done();
  }

  operation(i: number): string {
    const w = this.world;
    const op = w.ops;
    const task = op.task.data[i];
    const run = w.tasks.run.data[task];
    const p = w.ws.pipelines[w.runs.pipeline.data[run]];
    const def = p.taskBySlot[w.tasks.slot.data[task]];
    const opKey = w.opKey(i);
    const rng = new QuickRng(w.seed, opKey, 701);
    const status = OPERATION_STATUSES[op.status.data[i]];
    const nameIdx = rng.int(0, OP_NAMES.length - 1);
    const opName = OP_NAMES[nameIdx];
    const opType = def.kind.opTypes[rng.int(0, def.kind.opTypes.length - 1)];
    const inserted = op.inserted.data[i];
    const startedAt = op.started.data[i];
    const costs = def.kind.costs;
    const hasCost = costs !== null && op.status.data[i] !== OP.SKIPPED;
    const creditsMicro = hasCost ? rng.int(1000, 2_000_000) : 0;
    const credits = hasCost ? micros(creditsMicro) : null;
    const cost = hasCost ? micros(creditsMicro * 3) : null;
    const o = new Out(this.omit);
    o.req('id', '"' + encodeUuid(w.seed, KIND.operation, opKey) + '"');
    o.req('accountId', '"' + w.ws.accountId + '"');
    o.req('pipelineRunId', '"' + this.pipelineRunId(run) + '"');
    o.opt('taskRunId', '"' + this.taskRunId(task) + '"');
    o.req('insertedAt', '"' + isoUs(inserted) + '"');
    o.opt('message', op.status.data[i] === OP.FAILED ? '"Operation failed"' : null);
    o.opt('operationName', OP_NAMES_JSON[nameIdx]);
    o.req('operationStatus', '"' + status + '"');
    o.req('operationType', '"' + opType + '"');
    o.opt('externalStatus', '"' + status.toLowerCase() + '"');
    o.opt(
      'externalDetail',
      op.status.data[i] === OP.FAILED ? '"SQL compilation error: invalid identifier"' : null,
    );
    o.req('externalId', '"' + externalId(def.kind.integration, opName, opKey) + '"');
    o.opt('integration', '"' + def.kind.integration + '"');
    o.opt('integrationJob', '"' + def.kind.job + '"');
    o.opt('startedAt', '"' + isoUs(startedAt) + '"');
    o.opt('completedAt', '"' + isoUs(inserted) + '"');
    o.req(
      'dependencies',
      opKey % 3 === 0 ? '[]' : DEPENDENCIES_JSON[(nameIdx + 1) % OP_NAMES.length],
    );
    o.opt('operationDuration', micros(inserted - startedAt));
    o.opt('rowsAffected', opType === 'TEST' ? null : String(rng.int(0, 5_000_000)));
    o.opt('cost', cost);
    o.opt('credits', costs === 'Credits' ? credits : null);
    o.opt('creditsLabel', hasCost && costs === 'Credits' ? '"Snowflake credits"' : null);
    o.opt('currency', hasCost ? '"USD"' : null);
    o.opt('finalCostAmount', cost);
    o.opt(
      'rawCostAmount',
      !hasCost ? null : costs === 'Bytes' ? String(rng.int(1e6, 1e11)) : credits,
    );
    o.opt(
      'rawCostLabel',
      !hasCost ? null : costs === 'Bytes' ? '"bytes billed"' : '"credits used"',
    );
    o.opt('finalCostCurrency', hasCost ? '"USD"' : null);
    o.opt('rawCostIntegration', hasCost ? '"' + def.kind.integration + '"' : null);
    o.opt('rawCostUnits', hasCost ? '"' + costs + '"' : null);
    o.opt('assetExternalId', opType === 'MATERIALISATION' ? '"analytics.' + opName + '"' : null);
    o.opt('meta', rng.chance(0.3) ? META_JSON[nameIdx] : null);
    o.opt('tags', rng.chance(0.5) ? '["daily"]' : null);
    o.opt('canRerun', op.status.data[i] === OP.FAILED ? 'true' : 'false');
    return o.done();
  }

  record(stream: 'pipeline_runs' | 'task_runs' | 'operations', i: number, now: number): string {
    if (stream === 'pipeline_runs') return this.pipelineRun(i, now);
    if (stream === 'task_runs') return this.taskRun(i, now);
    return this.operation(i);
  }
}
