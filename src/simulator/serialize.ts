/**
 * Records as the API sends them (camelCase JSON), built as strings: the list endpoints serialize
 * hundreds of thousands of records per second, and JSON.stringify of objects would be the bottleneck.
 * Every value written here comes from a fixed vocabulary or is escaped with JSON.stringify.
 */
import { EXTERNAL_STATUS, OP_NAMES, PIPELINE_MESSAGES, TASK_MESSAGES } from './catalog';
import { KIND, OPERATION_STATUSES, PIPELINE_STATUSES, TASK_STATUSES } from './constants';
import { OptionalMode } from './options';
import { Rng, encodeUuid, hash, plainUuid } from './prng';
import { OP, PR, TR, World } from './world';

const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** `2025-05-01T11:16:39.421992+00:00` from integer microseconds. */
export function isoUs(us: number): string {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().slice(0, 23) + PAD3[us - ms * 1000] + '+00:00';
}

const q = (s: string): string => JSON.stringify(s);

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
    if (variant !== 4) {
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
        sensorRunId: plainUuid(w.seed, i, 502),
        integration: 'AWS_S3',
      });
    if (variant === 4) {
      const parent = w.ws.pipelines[(p.idx + 1) % w.ws.pipelines.length];
      Object.assign(base, {
        pipelineName: parent.name,
        pipelineId: parent.id,
        pipelineRunId: plainUuid(w.seed, i, 503),
        continueDownstreamRun: true,
        wildcardParent: false,
      });
    }
    const json = '[' + this.nested(base) + ']';
    if (variant !== 4) this.triggerCache.set(cacheKey, json);
    return json;
  }

  pipelineRunId(i: number): string {
    return encodeUuid(this.world.seed, KIND.pipelineRun, this.world.runKey(i));
  }

  taskRunId(i: number): string {
    return encodeUuid(this.world.seed, KIND.taskRun, this.world.taskKey(i));
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
    o.req('pipelineName', p.name === null ? 'null' : q(p.name));
    o.req('accountId', '"' + w.ws.accountId + '"');
    o.opt('envId', '"' + env.id + '"');
    o.opt('envName', q(env.name));
    o.req('runStatus', '"' + PIPELINE_STATUSES[status] + '"');
    o.opt('hasAnomalies', done ? String(anomaly) : null);
    if (anomaly) {
      const dur = Math.round((r.end.data[i] - r.started.data[i]) / 1e6) || 1;
      const data = {
        type: 'pipeline_duration_above_baseline',
        percentage_above_baseline: 1 + (hash(w.seed, i, 601) % 100),
        threshold_seconds: Math.round(dur / 1.6),
        compared_runs: 10 + (hash(w.seed, i, 602) % 20),
        observed_seconds: dur,
      };
      o.opt(
        'anomalies',
        JSON.stringify({ [plainUuid(w.seed, i, 603)]: { type: data.type, data } }),
      );
    } else {
      o.opt('anomalies', null);
    }
    o.req('triggeredBy', this.triggeredBy(i));
    o.req('childPipelineRuns', '[]');
    o.req('message', q(PIPELINE_MESSAGES[PIPELINE_STATUSES[status]]));
    o.opt('pipelineVersionNumber', String(p.versionNumber));
    o.req('createdAt', '"' + isoUs(r.created.data[i]) + '"');
    o.req('updatedAt', '"' + isoUs(w.runUpdated(i, now)) + '"');
    o.opt('completedAt', done ? '"' + isoUs(r.end.data[i]) + '"' : null);
    o.opt('startedAt', now >= r.started.data[i] ? '"' + isoUs(r.started.data[i]) + '"' : null);
    o.opt('branch', q(p.branch));
    o.opt('commit', '"' + p.commit + '"');
    o.opt('gitLink', q(p.gitLink));
    o.opt('data', p.dataJson);
    return o.done();
  }

  taskRun(i: number, now: number): string {
    const w = this.world;
    const t = w.tasks;
    const run = t.run.data[i];
    const p = w.ws.pipelines[w.runs.pipeline.data[run]];
    const def = p.tasks.find((d) => d.slot === t.slot.data[i]);
    if (!def) throw new Error(`task slot ${t.slot.data[i]} missing from pipeline ${p.idx}`);
    const status = w.taskStatus(i, now);
    const name = TASK_STATUSES[status];
    const id = this.taskRunId(i);
    const started = now >= t.running.data[i];
    const o = new Out(this.omit);
    o.req('id', '"' + id + '"');
    o.req('pipelineRunId', '"' + this.pipelineRunId(run) + '"');
    o.req('taskName', q(def.name));
    o.req('taskId', q(def.taskId));
    o.req('accountId', '"' + w.ws.accountId + '"');
    o.req('pipelineId', '"' + p.id + '"');
    o.req('integration', '"' + def.kind.integration + '"');
    o.req('integrationJob', '"' + def.kind.job + '"');
    o.req('status', '"' + name + '"');
    o.opt('message', q(TASK_MESSAGES[name]));
    o.opt('externalStatus', started ? '"' + EXTERNAL_STATUS[name] + '"' : null);
    o.opt('externalMessage', status === TR.FAILED ? q('Job exited with code 1') : null);
    o.opt('taskParameters', def.paramsJson);
    o.opt('runParameters', '{}');
    o.opt('connectionId', def.connectionId === null ? null : q(def.connectionId));
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
    o.opt('matrixParent', 'false');
    o.opt('matrixParentId', null);
    o.req('createdAt', '"' + isoUs(t.created.data[i]) + '"');
    o.req('updatedAt', '"' + isoUs(w.taskUpdated(i, now)) + '"');
    o.opt('completedAt', now >= t.end.data[i] ? '"' + isoUs(t.end.data[i]) + '"' : null);
    o.opt('startedAt', started ? '"' + isoUs(t.running.data[i]) + '"' : null);
    o.opt('dependsOn', JSON.stringify(def.dependsOn));
    return o.done();
  }

  operation(i: number): string {
    const w = this.world;
    const op = w.ops;
    const task = op.task.data[i];
    const run = w.tasks.run.data[task];
    const p = w.ws.pipelines[w.runs.pipeline.data[run]];
    const def = p.tasks.find((d) => d.slot === w.tasks.slot.data[task]);
    if (!def) throw new Error(`task slot missing from pipeline ${p.idx}`);
    const rng = new Rng(w.seed, w.opKey(i), 701);
    const status = OPERATION_STATUSES[op.status.data[i]];
    const opName = OP_NAMES[rng.int(0, OP_NAMES.length - 1)];
    const opType = def.kind.opTypes[rng.int(0, def.kind.opTypes.length - 1)];
    const inserted = op.inserted.data[i];
    const startedAt = op.started.data[i];
    const hasCost = def.kind.costs !== null && op.status.data[i] !== OP.SKIPPED;
    const credits = hasCost ? Math.round(rng.range(0.001, 2) * 1e6) / 1e6 : null;
    const o = new Out(this.omit);
    o.req('id', '"' + encodeUuid(w.seed, KIND.operation, w.opKey(i)) + '"');
    o.req('accountId', '"' + w.ws.accountId + '"');
    o.req('pipelineRunId', '"' + this.pipelineRunId(run) + '"');
    o.opt('taskRunId', '"' + this.taskRunId(task) + '"');
    o.req('insertedAt', '"' + isoUs(inserted) + '"');
    o.opt('message', op.status.data[i] === OP.FAILED ? q('Operation failed') : null);
    o.opt('operationName', q(opName));
    o.req('operationStatus', '"' + status + '"');
    o.req('operationType', '"' + opType + '"');
    o.opt('externalStatus', q(status.toLowerCase()));
    o.opt('externalDetail', null);
    o.req(
      'externalId',
      q(`${def.kind.integration.toLowerCase()}.${opName}.${w.opKey(i).toString(36)}`),
    );
    o.opt('integration', '"' + def.kind.integration + '"');
    o.opt('integrationJob', '"' + def.kind.job + '"');
    o.opt('startedAt', '"' + isoUs(startedAt) + '"');
    o.opt('completedAt', '"' + isoUs(inserted) + '"');
    o.req(
      'dependencies',
      i % 3 === 0 ? '[]' : JSON.stringify([OP_NAMES[(i + 1) % OP_NAMES.length]]),
    );
    o.opt('operationDuration', String(Math.round(inserted - startedAt) / 1e6));
    o.opt('rowsAffected', opType === 'TEST' ? null : String(rng.int(0, 5_000_000)));
    o.opt('cost', credits === null ? null : String(Math.round(credits * 3 * 1e6) / 1e6));
    o.opt('credits', credits === null || def.kind.costs !== 'Credits' ? null : String(credits));
    o.opt(
      'creditsLabel',
      credits === null || def.kind.costs !== 'Credits' ? null : '"Snowflake credits"',
    );
    o.opt('currency', credits === null ? null : '"USD"');
    o.opt('finalCostAmount', credits === null ? null : String(Math.round(credits * 3 * 1e6) / 1e6));
    o.opt(
      'rawCostAmount',
      credits === null ? null : String(def.kind.costs === 'Bytes' ? rng.int(1e6, 1e11) : credits),
    );
    o.opt(
      'rawCostLabel',
      credits === null ? null : def.kind.costs === 'Bytes' ? '"bytes billed"' : '"credits used"',
    );
    o.opt('finalCostCurrency', credits === null ? null : '"USD"');
    o.opt('rawCostIntegration', credits === null ? null : '"' + def.kind.integration + '"');
    o.opt('rawCostUnits', credits === null ? null : '"' + def.kind.costs + '"');
    o.opt('assetExternalId', opType === 'MATERIALISATION' ? q(`analytics.${opName}`) : null);
    o.opt('meta', rng.chance(0.3) ? JSON.stringify({ node_id: `model.acme.${opName}` }) : null);
    o.opt('tags', rng.chance(0.5) ? JSON.stringify(['daily']) : null);
    o.opt('canRerun', op.status.data[i] === OP.FAILED ? 'true' : 'false');
    return o.done();
  }

  record(stream: 'pipeline_runs' | 'task_runs' | 'operations', i: number, now: number): string {
    if (stream === 'pipeline_runs') return this.pipelineRun(i, now);
    if (stream === 'task_runs') return this.taskRun(i, now);
    return this.operation(i);
  }
}

export { PR };
