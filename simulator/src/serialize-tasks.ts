/** Task runs as the API sends them (TaskRunResponse), written as bytes. */
import { ByteWriter, writeIso } from './bytes';
import { EXTERNAL_STATUS, TASK_MESSAGES } from './catalog';
import { TASK_STATUSES } from './constants';
import { OptionalMode } from './options';
import { plainUuid } from './prng';
import { K, RecordWriter, b, cache, q } from './serialize-base';
import { TR, World } from './world';

export class TaskRunWriter extends RecordWriter {
  private readonly tHead: Buffer[];
  private readonly tStatus: Buffer[];
  private readonly tParams: Buffer[];
  private readonly tDepends: Buffer[];

  constructor(world: World, optional: OptionalMode) {
    super(world, optional);
    this.tHead = cache(this.perTask);
    this.tStatus = cache(32);
    this.tParams = cache(this.perTask);
    this.tDepends = cache(this.perTask);
  }

  write(w: ByteWriter, i: number, now: number): void {
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
    const idAt = w.off;
    this.taskIds.write(w, taskKey);
    w.bytes(K.runIdKey);
    const runIdAt = w.off;
    this.runIds.write(w, runKey);
    w.bytes(K.q);
    w.bytes(head);
    w.bytes(statusSeg);
    w.bytes(params);
    if (started) {
      w.bytes(K.platformKey);
      // The two ids again: copied from where they were just written.
      w.ensure(36 + K.tasksPath.length + 37);
      w.buf.copyWithin(w.off, runIdAt, runIdAt + 36);
      w.off += 36;
      w.bytes(K.tasksPath);
      w.buf.copyWithin(w.off, idAt, idAt + 36);
      w.off += 36;
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
}
