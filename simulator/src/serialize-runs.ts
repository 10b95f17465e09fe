/** Pipeline runs as the API sends them (PipelineRunResponse), written as bytes. */
import { ByteWriter, writeIso } from './bytes';
import { PIPELINE_MESSAGES } from './catalog';
import { PIPELINE_STATUSES } from './constants';
import { OptionalMode } from './options';
import { hash, plainUuid } from './prng';
import { K, RecordWriter, b, cache, q } from './serialize-base';
import { World } from './world';
import { PipelineDef } from './workspace';

// Module-level bindings: global lookups are slow inside test-runner VM contexts (jest).
const { round } = Math;

const TRIGGERS = ['SCHEDULED', 'MANUAL', 'WEBHOOK', 'SENSOR', 'TRIGGER_EVENT'];

export class PipelineRunWriter extends RecordWriter {
  private readonly trig: Buffer[];
  private readonly pHead: Buffer[];
  private readonly pStatus: Buffer[];
  private readonly pMid: Buffer[];
  private readonly pTail: Buffer[];

  constructor(world: World, optional: OptionalMode) {
    super(world, optional);
    this.trig = cache(this.perPipeline * 8);
    this.pHead = cache(this.perPipeline);
    this.pStatus = cache(32);
    this.pMid = cache(this.perPipeline * 8);
    this.pTail = cache(this.perPipeline);
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
    const dur = round((r.end.data[i] - r.started.data[i]) / 1e6) || 1;
    const data = {
      type: 'pipeline_duration_above_baseline',
      percentage_above_baseline: 1 + (hash(w.seed, key, 601) % 100),
      threshold_seconds: round(dur / 1.6),
      compared_runs: 10 + (hash(w.seed, key, 602) % 20),
      observed_seconds: dur,
    };
    return JSON.stringify({ [plainUuid(w.seed, key, 603)]: { type: data.type, data } });
  }

  write(w: ByteWriter, i: number, now: number): void {
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
    this.runIds.write(w, world.runKey(i));
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
}
