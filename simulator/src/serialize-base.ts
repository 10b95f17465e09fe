/**
 * Shared pieces of the record writers: pre-encoded constants, null handling per optional-field mode,
 * and `seg()` to pre-encode runs of constant fields. Records are written as bytes (see bytes.ts):
 * runs of fields that are constant for a pipeline, a task definition or a status become segments
 * cached by small integer keys; ids, timestamps and numbers are written digit by digit.
 * Every value comes from a fixed vocabulary or is escaped with JSON.stringify once: output is ASCII.
 */
import { ByteWriter, writeIso } from './bytes';
import { OP_NAMES } from './catalog';
import { KIND } from './constants';
import { OptionalMode } from './options';
import { UuidKind } from './prng';
import { World } from './world';

// Module-level bindings: global lookups are slow inside test-runner VM contexts (jest).
const { max } = Math;

export const q = (s: string): string => JSON.stringify(s);
export const b = (s: string): Buffer => Buffer.from(s, 'latin1');

export type Field = [key: string, json: string | null];

/** Constant pieces, pre-encoded. */
export const K = {
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
export type NullableKey = (typeof NULLABLE)[number];
const NULLS = Object.fromEntries(NULLABLE.map((k) => [k, b(',"' + k + '":null')])) as Record<
  NullableKey,
  Buffer
>;
export const META_JSON = OP_NAMES.map((n) => b(JSON.stringify({ node_id: `model.acme.${n}` })));

/** Segment caches are preallocated: arrays indexed far beyond their length turn into slow dictionaries. */
export function cache(size: number): Buffer[] {
  return new Array<Buffer>(max(1, size));
}

export abstract class RecordWriter {
  protected readonly omit: boolean;
  /** Per-pipeline cache sizes. */
  protected readonly perPipeline: number;
  protected readonly perTask: number;
  protected readonly runIds: UuidKind;
  protected readonly taskIds: UuidKind;
  protected readonly opIds: UuidKind;

  constructor(
    protected readonly world: World,
    optional: OptionalMode,
  ) {
    this.omit = optional === 'omit';
    this.perPipeline = max(1, world.ws.pipelines.length);
    this.perTask = this.perPipeline * 16;
    this.runIds = new UuidKind(world.seed, KIND.pipelineRun);
    this.taskIds = new UuidKind(world.seed, KIND.taskRun);
    this.opIds = new UuidKind(world.seed, KIND.operation);
  }

  /** `,"k":v` for each field; null values omitted in `omit` mode (never pass required fields as null). */
  protected segStr(fields: Field[]): string {
    let s = '';
    for (const [k, v] of fields) {
      if (v === null && this.omit) continue;
      s += ',"' + k + '":' + (v ?? 'null');
    }
    return s;
  }

  protected seg(fields: Field[]): Buffer {
    return b(this.segStr(fields));
  }

  /** `,"key":null` (or nothing in omit mode). */
  protected null(w: ByteWriter, key: NullableKey): void {
    if (!this.omit) w.bytes(NULLS[key]);
  }

  /** JSON of a nested object; in omit mode its null properties are omitted too (FastAPI exclude_none). */
  protected nested(obj: Record<string, unknown>): string {
    if (!this.omit) return JSON.stringify(obj);
    return JSON.stringify(Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null)));
  }

  protected isoField(w: ByteWriter, key: Buffer, us: number): void {
    w.bytes(key);
    writeIso(w, us);
    w.byte(34);
  }
}
