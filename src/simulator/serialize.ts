/**
 * Records as the API sends them (camelCase JSON, in the OpenAPI's property order), written as bytes:
 * runs of fields that are constant for a pipeline, a task definition or a status are pre-encoded
 * segments; ids, timestamps and numbers are written digit by digit (see bytes.ts for why). The same
 * writer serves the list endpoints and the ground truth, so they cannot disagree.
 * Every value comes from a fixed vocabulary or is escaped with JSON.stringify once: output is ASCII.
 */
import { ByteWriter, writeIso } from './bytes';
import { EXTERNAL_STATUS, OP_NAMES, PIPELINE_MESSAGES, TASK_MESSAGES } from './catalog';
import {
  KIND,
  OPERATION_STATUSES,
  PIPELINE_STATUSES,
  StreamName,
  TASK_STATUSES,
} from './constants';
import { OptionalMode } from './options';
import { QuickRng, hash, plainUuid, writeUuid } from './prng';
import { OP, TR, World } from './world';
import { PipelineDef } from './workspace';

export { isoUs } from './bytes';

const q = (s: string): string => JSON.stringify(s);
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** An operation's external id (also what the `external_id` filter matches). */
export function externalId(integration: string, opName: string, opKey: number): string {
  return integration.toLowerCase() + '.' + opName + '.' + opKey.toString(36);
}

/** OperationType enum values, for integer segment keys. */
const OP_TYPES = [
  'AGGREGATION',
  'ANALYSIS',
  'DEPLOY',
  'INGESTION',
  'ITERATOR',
  'MATERIALISATION',
  'OPERATION',
  'QUERY',
  'REFRESH',
  'REVERSE_ETL',
  'SEED',
  'SNAPSHOT',
  'SOURCE',
  'TEST',
  'TEST_GROUP',
  'TRIGGER',
  'UNKNOWN',
];
const OP_TYPE_INDEX: Record<string, number> = Object.fromEntries(OP_TYPES.map((t, i) => [t, i]));

const TRIGGERS = ['SCHEDULED', 'MANUAL', 'WEBHOOK', 'SENSOR', 'TRIGGER_EVENT'];
const COST_FIELDS = [
  'cost',
  'credits',
  'creditsLabel',
  'currency',
  'finalCostAmount',
  'rawCostAmount',
  'rawCostLabel',
  'finalCostCurrency',
  'rawCostIntegration',
  'rawCostUnits',
];
type Field = [key: string, json: string | null];

// Constant pieces, pre-encoded.
const K = {
  openId: b('{"id":"'),
  q: b('"'),
  runIdKey: b('","pipelineRunId":"'),
  accountKey: b('","accountId":"'),
  taskRunKey: b('","taskRunId":"'),
  insertedKey: b('","insertedAt":"'),
  createdKey: b(',"createdAt":"'),
  updatedKey: b('","updatedAt":"'),
  completedKey: b(',"completedAt":"'),
  startedKey: b(',"startedAt":"'),
  triggeredKey: b(',"triggeredBy":'),
  externalIdKey: b(',"externalId":"'),
  opStartedKey: b(',"startedAt":"'),
  opCompletedKey: b('","completedAt":"'),
  depsKey: b('","dependencies":'),
  durationKey: b(',"operationDuration":'),
  rowsKey: b(',"rowsAffected":'),
  costKey: b(',"cost":'),
  creditsKey: b(',"credits":'),
  finalKey: b(',"finalCostAmount":'),
  rawKey: b(',"rawCostAmount":'),
  attemptsKey: b(',"numberOfAttempts":'),
  platformKey: b(',"platformLink":"https://app.getorchestra.io/pipeline-runs/'),
  tasksPath: b('/tasks/'),
  matrixKey: b(',"matrixParent":false'),
  matrixIdKey: b(',"matrixParentId":"'),
  anomaliesKey: b(',"anomalies":'),
  assetKey: b(',"assetExternalId":"analytics.'),
  metaKey: b(',"meta":'),
  tagsDaily: b(',"tags":["daily"]'),
  rerunTrue: b(',"canRerun":true}'),
  rerunFalse: b(',"canRerun":false}'),
  empty: b('[]'),
};
const NULLABLE = [
  'anomalies',
  'completedAt',
  'startedAt',
  'platformLink',
  'matrixParentId',
  'rowsAffected',
  'credits',
  'assetExternalId',
  'meta',
  'tags',
] as const;
type NullableKey = (typeof NULLABLE)[number];
const NULLS = Object.fromEntries(NULLABLE.map((k) => [k, b(',"' + k + '":null')])) as Record<
  NullableKey,
  Buffer
>;
const DEPENDENCIES_JSON = OP_NAMES.map((n) => b(JSON.stringify([n])));
const META_JSON = OP_NAMES.map((n) => b(JSON.stringify({ node_id: `model.acme.${n}` })));

export class Serializer {
  private readonly omit: boolean;
  private readonly w = new ByteWriter();
  private readonly rng = new QuickRng(0, 0, 0);
  private readonly extPrefix: Buffer[];
  // Segment caches, indexed by small integers (no per-record key strings or closures).
  private readonly trig: Buffer[];
  private readonly pHead: Buffer[];
  private readonly pStatus: Buffer[];
  private readonly pMid: Buffer[];
  private readonly pTail: Buffer[];
  private readonly tHead: Buffer[];
  private readonly tStatus: Buffer[];
  private readonly tParams: Buffer[];
  private readonly tDepends: Buffer[];
  private readonly oDescribe: Buffer[];
  private readonly oInteg: Buffer[];
  private readonly oCostA: Buffer[];
  private readonly oCostB: Buffer[];
  private readonly noCost: Buffer;

  constructor(
    private readonly world: World,
    optional: OptionalMode,
  ) {
    this.omit = optional === 'omit';
    // Preallocated: arrays indexed far beyond their length fall back to slow dictionary elements.
    const perPipeline = Math.max(1, world.ws.pipelines.length);
    const perTask = perPipeline * 16;
    this.extPrefix = new Array<Buffer>(perTask * 16);
    this.trig = new Array<Buffer>(perPipeline * 8);
    this.pHead = new Array<Buffer>(perPipeline);
    this.pStatus = new Array<Buffer>(32);
    this.pMid = new Array<Buffer>(perPipeline * 8);
    this.pTail = new Array<Buffer>(perPipeline);
    this.tHead = new Array<Buffer>(perTask);
    this.tStatus = new Array<Buffer>(32);
    this.tParams = new Array<Buffer>(perTask);
    this.tDepends = new Array<Buffer>(perTask);
    this.oDescribe = new Array<Buffer>(OP_NAMES.length * 8 * OP_TYPES.length * 2);
    this.oInteg = new Array<Buffer>(perTask);
    this.oCostA = new Array<Buffer>(perTask);
    this.oCostB = new Array<Buffer>(perTask);
    this.noCost = this.seg(COST_FIELDS.map((k): Field => [k, null]));
  }

  /** `,"k":v` for each field; null values omitted in `omit` mode (never pass required fields as null). */
  private segStr(fields: Field[]): string {
    let s = '';
    for (const [k, v] of fields) {
      if (v === null && this.omit) continue;
      s += ',"' + k + '":' + (v ?? 'null');
    }
    return s;
  }

  private seg(fields: Field[]): Buffer {
    return b(this.segStr(fields));
  }

  /** `,"key":null` (or nothing in omit mode). */
  private null(w: ByteWriter, key: NullableKey): void {
    if (!this.omit) w.bytes(NULLS[key]);
  }

  private nested(obj: Record<string, unknown>): string {
    if (!this.omit) return JSON.stringify(obj);
    return JSON.stringify(Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null)));
  }

  /** The record as a string (truth, filters). */
  record(stream: StreamName, i: number, now: number): string {
    const w = this.w;
    w.reset();
    this.write(w, stream, i, now);
    return w.toString();
  }

  write(w: ByteWriter, stream: StreamName, i: number, now: number): void {
    if (stream === 'pipeline_runs') this.pipelineRun(w, i, now);
    else if (stream === 'task_runs') this.taskRun(w, i, now);
    else this.operation(w, i);
  }

  private triggeredBy(i: number, p: PipelineDef): Buffer {
    const w = this.world;
    const variant = (w.runs.flags.data[i] >> 1) & 7;
    const build = (): Buffer => {
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
      if (variant === 3) {
        Object.assign(base, {
          sensorName: 'new_files_in_s3',
          sensorRunId: plainUuid(w.seed, w.runKey(i), 502),
          integration: 'AWS_S3',
        });
      }
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
      return b('[' + this.nested(base) + ']');
    };
    // Scheduled, manual and webhook triggers are the same for every run of a pipeline.
    if (variant >= 3) return build();
    const k = p.idx * 8 + variant;
    return this.trig[k] ?? (this.trig[k] = build());
  }

  private anomalies(i: number): string {
    const w = this.world;
    const r = w.runs;
    const key = w.runKey(i);
    const dur = Math.round((r.end.data[i] - r.started.data[i]) / 1e6) || 1;
    const data = {
      type: 'pipeline_duration_above_baseline',
      percentage_above_baseline: 1 + (hash(w.seed, key, 601) % 100),
      threshold_seconds: Math.round(dur / 1.6),
      compared_runs: 10 + (hash(w.seed, key, 602) % 20),
      observed_seconds: dur,
    };
    return JSON.stringify({ [plainUuid(w.seed, key, 603)]: { type: data.type, data } });
  }

  private isoField(w: ByteWriter, key: Buffer, us: number): void {
    w.bytes(key);
    writeIso(w, us);
    w.byte(34);
  }

  private pipelineRun(w: ByteWriter, i: number, now: number): void {
    const world = this.world;
    const r = world.runs;
    const p = world.ws.pipelines[r.pipeline.data[i]];
    const status = world.runStatus(i, now);
    const done = now >= r.end.data[i];
    const anomaly = done && (r.flags.data[i] & 1) === 1;
    const head =
      this.pHead[p.idx] ??
      (this.pHead[p.idx] = b(
        ',"pipelineId":"' +
          p.id +
          '","pipelineName":' +
          p.nameJson +
          ',"accountId":"' +
          world.ws.accountId +
          '"' +
          this.segStr([
            ['envId', q(world.ws.environments[p.envIdx].id)],
            ['envName', world.ws.environments[p.envIdx].nameJson],
          ]),
      ));
    const sk = status * 3 + (done ? (anomaly ? 2 : 1) : 0);
    const statusSeg =
      this.pStatus[sk] ??
      (this.pStatus[sk] = b(
        ',"runStatus":"' +
          PIPELINE_STATUSES[status] +
          '"' +
          this.segStr([['hasAnomalies', done ? String(anomaly) : null]]),
      ));
    const mk = p.idx * 8 + status;
    const mid =
      this.pMid[mk] ??
      (this.pMid[mk] = b(
        ',"childPipelineRuns":[],"message":' +
          q(PIPELINE_MESSAGES[PIPELINE_STATUSES[status]]) +
          this.segStr([['pipelineVersionNumber', String(p.versionNumber)]]),
      ));
    const tail =
      this.pTail[p.idx] ??
      (this.pTail[p.idx] = this.seg([
        ['branch', p.branchJson],
        ['commit', q(p.commit)],
        ['gitLink', p.gitLinkJson],
        ['data', p.dataJson],
      ]));
    w.bytes(K.openId);
    writeUuid(w, world.seed, KIND.pipelineRun, world.runKey(i));
    w.bytes(K.q);
    w.bytes(head);
    w.bytes(statusSeg);
    if (anomaly) {
      w.bytes(K.anomaliesKey);
      w.ascii(this.anomalies(i));
    } else this.null(w, 'anomalies');
    w.bytes(K.triggeredKey);
    w.bytes(this.triggeredBy(i, p));
    w.bytes(mid);
    this.isoField(w, K.createdKey, r.created.data[i]);
    w.ensure(64);
    w.off--;
    w.bytes(K.updatedKey);
    writeIso(w, world.runUpdated(i, now));
    w.byte(34);
    if (done) this.isoField(w, K.completedKey, r.end.data[i]);
    else this.null(w, 'completedAt');
    if (now >= r.started.data[i]) this.isoField(w, K.startedKey, r.started.data[i]);
    else this.null(w, 'startedAt');
    w.bytes(tail);
    w.byte(125);
  }

  private taskRun(w: ByteWriter, i: number, now: number): void {
    const world = this.world;
    const t = world.tasks;
    const run = t.run.data[i];
    const p = world.ws.pipelines[world.runs.pipeline.data[run]];
    const slot = t.slot.data[i];
    const def = p.taskBySlot[slot];
    const status = world.taskStatus(i, now);
    const started = now >= t.running.data[i];
    const dk = p.idx * 16 + slot;
    const head =
      this.tHead[dk] ??
      (this.tHead[dk] = b(
        ',"taskName":' +
          def.nameJson +
          ',"taskId":' +
          def.taskIdJson +
          ',"accountId":"' +
          world.ws.accountId +
          '","pipelineId":"' +
          p.id +
          '","integration":"' +
          def.kind.integration +
          '","integrationJob":"' +
          def.kind.job +
          '"',
      ));
    const sk = status * 2 + (started ? 1 : 0);
    const statusSeg =
      this.tStatus[sk] ??
      (this.tStatus[sk] = b(
        ',"status":"' +
          TASK_STATUSES[status] +
          '"' +
          this.segStr([
            ['message', q(TASK_MESSAGES[TASK_STATUSES[status]])],
            ['externalStatus', started ? q(EXTERNAL_STATUS[TASK_STATUSES[status]]) : null],
            ['externalMessage', status === TR.FAILED ? q('Job exited with code 1') : null],
          ]),
      ));
    const params =
      this.tParams[dk] ??
      (this.tParams[dk] = this.seg([
        ['taskParameters', def.paramsJson],
        ['runParameters', '{}'],
        ['connectionId', def.connectionId === null ? null : q(def.connectionId)],
        ['computeResourceId', def.computeResourceId === null ? null : q(def.computeResourceId)],
      ]));
    const depends =
      this.tDepends[dk] ?? (this.tDepends[dk] = this.seg([['dependsOn', def.dependsOnJson]]));
    const runKey = world.runKey(run);
    const taskKey = world.taskKey(i);
    w.bytes(K.openId);
    writeUuid(w, world.seed, KIND.taskRun, taskKey);
    w.bytes(K.runIdKey);
    writeUuid(w, world.seed, KIND.pipelineRun, runKey);
    w.bytes(K.q);
    w.bytes(head);
    w.bytes(statusSeg);
    w.bytes(params);
    if (started) {
      w.bytes(K.platformKey);
      writeUuid(w, world.seed, KIND.pipelineRun, runKey);
      w.bytes(K.tasksPath);
      writeUuid(w, world.seed, KIND.taskRun, taskKey);
      w.byte(34);
    } else this.null(w, 'platformLink');
    w.bytes(K.attemptsKey);
    w.uint(t.attempt.data[i]);
    // A few task definitions run as matrix iterations under a parent task run.
    w.bytes(K.matrixKey);
    if (def.matrixChild) {
      w.bytes(K.matrixIdKey);
      w.ascii(plainUuid(world.seed, runKey, slot, 4005));
      w.byte(34);
    } else this.null(w, 'matrixParentId');
    this.isoField(w, K.createdKey, t.created.data[i]);
    w.off--;
    w.bytes(K.updatedKey);
    writeIso(w, world.taskUpdated(i, now));
    w.byte(34);
    if (now >= t.end.data[i]) this.isoField(w, K.completedKey, t.end.data[i]);
    else this.null(w, 'completedAt');
    if (started) this.isoField(w, K.startedKey, t.running.data[i]);
    else this.null(w, 'startedAt');
    w.bytes(depends);
    w.byte(125);
  }

  private buildDescribe(
    failed: boolean,
    nameIdx: number,
    statusCode: number,
    opType: string,
  ): Buffer {
    const status = OPERATION_STATUSES[statusCode];
    return b(
      this.segStr([
        ['message', failed ? q('Operation failed') : null],
        ['operationName', q(OP_NAMES[nameIdx])],
      ]) +
        ',"operationStatus":"' +
        status +
        '","operationType":"' +
        opType +
        '"' +
        this.segStr([
          ['externalStatus', q(status.toLowerCase())],
          ['externalDetail', failed ? q('SQL compilation error: invalid identifier') : null],
        ]),
    );
  }

  private operation(w: ByteWriter, i: number): void {
    const world = this.world;
    const op = world.ops;
    const task = op.task.data[i];
    const run = world.tasks.run.data[task];
    const p = world.ws.pipelines[world.runs.pipeline.data[run]];
    const slot = world.tasks.slot.data[task];
    const def = p.taskBySlot[slot];
    const dk = p.idx * 16 + slot;
    const opKey = world.opKey(i);
    const rng = this.rng.reseed(world.seed, opKey, 701);
    const statusCode = op.status.data[i];
    const nameIdx = rng.int(0, OP_NAMES.length - 1);
    const typeIdx = rng.int(0, def.kind.opTypes.length - 1);
    const opType = def.kind.opTypes[typeIdx];
    const opName = OP_NAMES[nameIdx];
    const inserted = op.inserted.data[i];
    const startedAt = op.started.data[i];
    const costs = def.kind.costs;
    const failed = statusCode === OP.FAILED;
    const desc =
      ((nameIdx * 8 + statusCode) * OP_TYPES.length + OP_TYPE_INDEX[opType]) * 2 + (failed ? 1 : 0);
    const describe =
      this.oDescribe[desc] ??
      (this.oDescribe[desc] = this.buildDescribe(failed, nameIdx, statusCode, opType));
    const integ =
      this.oInteg[dk] ??
      (this.oInteg[dk] = this.seg([
        ['integration', q(def.kind.integration)],
        ['integrationJob', q(def.kind.job)],
      ]));
    w.bytes(K.openId);
    writeUuid(w, world.seed, KIND.operation, opKey);
    w.bytes(K.accountKey);
    w.ascii(world.ws.accountId);
    w.bytes(K.runIdKey);
    writeUuid(w, world.seed, KIND.pipelineRun, world.runKey(run));
    w.bytes(K.taskRunKey);
    writeUuid(w, world.seed, KIND.taskRun, world.taskKey(task));
    w.bytes(K.insertedKey);
    writeIso(w, inserted);
    w.byte(34);
    w.bytes(describe);
    w.bytes(K.externalIdKey);
    // externalId(integration, opName, opKey), written without building the string.
    const xk = dk * 16 + nameIdx;
    w.bytes(
      this.extPrefix[xk] ??
        (this.extPrefix[xk] = b(def.kind.integration.toLowerCase() + '.' + opName + '.')),
    );
    w.base36(opKey);
    w.byte(34);
    w.bytes(integ);
    w.bytes(K.opStartedKey);
    writeIso(w, startedAt);
    w.bytes(K.opCompletedKey);
    writeIso(w, inserted);
    w.bytes(K.depsKey);
    w.bytes(opKey % 3 === 0 ? K.empty : DEPENDENCIES_JSON[(nameIdx + 1) % OP_NAMES.length]);
    w.bytes(K.durationKey);
    w.micros(inserted - startedAt);
    if (opType === 'TEST') this.null(w, 'rowsAffected');
    else {
      w.bytes(K.rowsKey);
      w.uint(rng.int(0, 5_000_000));
    }
    if (costs !== null && statusCode !== OP.SKIPPED) {
      const creditsMicro = rng.int(1000, 2_000_000);
      w.bytes(K.costKey);
      w.micros(creditsMicro * 3);
      if (costs === 'Credits') {
        w.bytes(K.creditsKey);
        w.micros(creditsMicro);
      } else this.null(w, 'credits');
      w.bytes(
        this.oCostA[dk] ??
          (this.oCostA[dk] = this.seg([
            ['creditsLabel', costs === 'Credits' ? '"Snowflake credits"' : null],
            ['currency', '"USD"'],
          ])),
      );
      w.bytes(K.finalKey);
      w.micros(creditsMicro * 3);
      w.bytes(K.rawKey);
      if (costs === 'Bytes') w.uint(rng.int(1e6, 1e11));
      else w.micros(creditsMicro);
      w.bytes(
        this.oCostB[dk] ??
          (this.oCostB[dk] = this.seg([
            ['rawCostLabel', costs === 'Bytes' ? '"bytes billed"' : '"credits used"'],
            ['finalCostCurrency', '"USD"'],
            ['rawCostIntegration', q(def.kind.integration)],
            ['rawCostUnits', q(costs)],
          ])),
      );
    } else w.bytes(this.noCost);
    if (opType === 'MATERIALISATION') {
      w.bytes(K.assetKey);
      w.ascii(opName);
      w.byte(34);
    } else this.null(w, 'assetExternalId');
    if (rng.chance(0.3)) {
      w.bytes(K.metaKey);
      w.bytes(META_JSON[nameIdx]);
    } else this.null(w, 'meta');
    if (rng.chance(0.5)) w.bytes(K.tagsDaily);
    else this.null(w, 'tags');
    w.bytes(failed ? K.rerunTrue : K.rerunFalse);
  }
}
