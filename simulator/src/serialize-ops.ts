/** Operations as the API sends them (OperationResponse), written as bytes. Operations never change. */
import { ByteWriter, writeIso } from './bytes';
import { JOB_KINDS, OP_NAMES } from './catalog';
import { OPERATION_STATUSES } from './constants';
import { OptionalMode } from './options';
import { QuickRng } from './prng';
import { Field, K, META_JSON, RecordWriter, b, cache, q } from './serialize-base';
import { OP, World } from './world';

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

// `","dependencies":[...],"operationDuration":` for each variant.
const depsSeg = (json: string): Buffer => b('","dependencies":' + json + ',"operationDuration":');
const NO_DEPENDENCIES = depsSeg('[]');
const DEPENDENCIES = OP_NAMES.map((n) => depsSeg(JSON.stringify([n])));

/** An operation's external id (also what the `external_id` filter matches). */
export function externalId(integration: string, opName: string, opKey: number): string {
  return integration.toLowerCase() + '.' + opName + '.' + opKey.toString(36);
}

export class OperationWriter extends RecordWriter {
  private readonly rng = new QuickRng(0, 0, 0);
  private readonly extPrefix: Buffer[];
  private readonly oDescribe: Buffer[];
  private readonly oInteg: Buffer[];
  private readonly oCostA: Buffer[];
  private readonly oCostB: Buffer[];
  private readonly noCost: Buffer;
  /** `","accountId":"<id>","pipelineRunId":"`. */
  private readonly accountAndRun: Buffer;
  private lastTask = -1;
  /** `<run id>","taskRunId":"<task run id>` of lastTask. */
  private readonly lastParents = Buffer.alloc(36 + 15 + 36);
  private readonly insertedIso = Buffer.alloc(32);

  constructor(world: World, optional: OptionalMode) {
    super(world, optional);
    this.extPrefix = cache(JOB_KINDS.length * OP_NAMES.length * 8 * OP_TYPES.length * 2);
    this.oDescribe = cache(OP_NAMES.length * 8 * OP_TYPES.length * 2);
    this.oInteg = cache(JOB_KINDS.length);
    this.oCostA = cache(JOB_KINDS.length);
    this.oCostB = cache(JOB_KINDS.length);
    this.noCost = this.seg(COST_FIELDS.map((k): Field => [k, null]));
    this.accountAndRun = b('","accountId":"' + world.ws.accountId + '","pipelineRunId":"');
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

  write(w: ByteWriter, i: number): void {
    const world = this.world;
    const op = world.ops;
    const task = op.task.data[i];
    const run = world.tasks.run.data[task];
    const p = world.ws.pipelines[world.runs.pipeline.data[run]];
    const slot = world.tasks.slot.data[task];
    const def = p.taskBySlot[slot];
    // Segments that depend only on the kind of job: a handful, hot in the CPU cache.
    const dk = JOB_KINDS.indexOf(def.kind);
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
    // `"` + integration fields + `,"startedAt":"`.
    const integ =
      this.oInteg[dk] ??
      (this.oInteg[dk] = Buffer.concat([
        K.q,
        this.seg([
          ['integration', q(def.kind.integration)],
          ['integrationJob', q(def.kind.job)],
        ]),
        K.opStartedKey,
      ]));
    w.bytes(K.openId);
    this.opIds.write(w, opKey);
    w.bytes(this.accountAndRun);
    // Operations of one task are adjacent in most orders: their parents' ids are copied, not recomputed.
    if (task === this.lastTask) {
      w.bytes(this.lastParents);
    } else {
      const from = w.off;
      this.runIds.write(w, world.runKey(run));
      w.bytes(K.taskRunKey);
      this.taskIds.write(w, world.taskKey(task));
      w.buf.copy(this.lastParents, 0, from, w.off);
      this.lastTask = task;
    }
    w.bytes(K.insertedKey);
    const insertedAt = w.off;
    writeIso(w, inserted);
    w.buf.copy(this.insertedIso, 0, insertedAt, w.off);
    const describeCount = OP_NAMES.length * 8 * OP_TYPES.length * 2;
    // `"` + describe + `,"externalId":"` + the external id's prefix, as one segment;
    // externalId(integration, opName, opKey) is written without building the string.
    const xk = dk * describeCount + desc;
    w.bytes(
      this.extPrefix[xk] ??
        (this.extPrefix[xk] = Buffer.concat([
          K.q,
          describe,
          K.externalIdKey,
          b(def.kind.integration.toLowerCase() + '.' + opName + '.'),
        ])),
    );
    w.base36(opKey);
    w.bytes(integ);
    writeIso(w, startedAt);
    w.bytes(K.opCompletedKey);
    w.bytes(this.insertedIso);
    w.bytes(opKey % 3 === 0 ? NO_DEPENDENCIES : DEPENDENCIES[(nameIdx + 1) % OP_NAMES.length]);
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
