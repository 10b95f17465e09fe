/**
 * The living world: every pipeline run of every pipeline, with its task runs (and their attempts)
 * and operations, generated deterministically from (seed, pipeline, run number). A run's whole
 * timeline is decided when the run is generated; what a client sees at simulated time t is a pure
 * function of t (status = last transition <= t), so no record ever needs mutating.
 */
import { F64Col, U32Col, mergeSorted } from './columns';
import { EPOCH_US, StreamName, US_PER_HOUR, US_PER_SECOND } from './constants';
import { Rng } from './prng';
import type { PipelineDef, Workspace } from './workspace';

// Module-level bindings: global lookups are slow inside test-runner VM contexts (jest).
const { ceil, floor, max, min, round } = Math;

// Pipeline run status codes (index into PIPELINE_STATUSES).
export const PR = {
  CREATED: 0,
  RUNNING: 1,
  SUCCEEDED: 2,
  WARNING: 3,
  FAILED: 4,
  SKIPPED: 5,
  CANCELLING: 6,
  CANCELLED: 7,
};
// Task run status codes (index into TASK_STATUSES).
export const TR = {
  CREATED: 0,
  SKIPPED: 1,
  QUEUED: 2,
  RUNNING: 3,
  SUCCEEDED: 4,
  WARNING: 5,
  FAILED: 6,
  CANCELLING: 7,
  CANCELLED: 8,
};
// Operation status codes (index into OPERATION_STATUSES).
export const OP = {
  CANCELLED: 0,
  FAILED: 1,
  REUSED: 2,
  SKIPPED: 3,
  SUCCEEDED: 4,
  UNKNOWN: 5,
  WARNING: 6,
};

const CHUNK_US = 6 * US_PER_HOUR;
const S = US_PER_SECOND;

class RunTable {
  n = 0;
  pipeline = new U32Col();
  k = new F64Col();
  created = new F64Col();
  started = new F64Col();
  cancelling = new F64Col();
  end = new F64Col();
  final = new U32Col();
  firstTask = new U32Col();
  taskCount = new U32Col();
  /** bit 0: anomaly; bits 1-3: trigger variant. */
  flags = new U32Col();
}

class TaskTable {
  n = 0;
  key = new F64Col();
  run = new U32Col();
  slot = new U32Col();
  attempt = new U32Col();
  created = new F64Col();
  queued = new F64Col();
  running = new F64Col();
  cancelling = new F64Col();
  end = new F64Col();
  final = new U32Col();
  /** When the next attempt of the same task was created (Infinity when none). */
  superseded = new F64Col();
  firstOp = new U32Col();
  opCount = new U32Col();
}

class OpTable {
  n = 0;
  /** The structural key (see opKey), stored: computing it touches three tables. */
  key = new F64Col();
  task = new U32Col();
  inserted = new F64Col();
  started = new F64Col();
  status = new U32Col();
  ordinal = new U32Col();
}

interface Attempt {
  slot: number;
  attempt: number;
  created: number;
  queued: number;
  running: number;
  cancelling: number;
  end: number;
  final: number;
  superseded: number;
}

export class World {
  readonly runs = new RunTable();
  readonly tasks = new TaskTable();
  readonly ops = new OpTable();
  /** Record indices per stream sorted by createdAt (operations: insertedAt). */
  readonly order: Record<StreamName, Uint32Array> = {
    pipeline_runs: new Uint32Array(0),
    task_runs: new Uint32Array(0),
    operations: new Uint32Array(0),
  };
  /** Longest time between a record's creation and its last transition, per stream. */
  readonly maxSpan: Record<StreamName, number> = { pipeline_runs: 0, task_runs: 0, operations: 0 };
  /** Run key (pipeline * 2^26 + run number) -> run index, for id filters. */
  readonly runByKey = new Map<number, number>();
  private generatedUntil: number;
  /** Key of the run being generated. */
  private runKeyOf = 0;
  /** Bumped whenever records are added, so caches can tell. */
  generation = 0;

  constructor(
    readonly seed: number,
    readonly ws: Workspace,
    historyStartUs: number,
  ) {
    this.generatedUntil = floor(historyStartUs / CHUNK_US) * CHUNK_US;
  }

  /** Generate every run scheduled up to `nowUs` (runs are generated whole, future steps included). */
  ensure(nowUs: number): void {
    if (this.generatedUntil > nowUs) return;
    const before = { r: this.runs.n, t: this.tasks.n, o: this.ops.n };
    while (this.generatedUntil <= nowUs) {
      const a = this.generatedUntil;
      const b = a + CHUNK_US;
      const due: [t: number, p: number, k: number][] = [];
      for (const p of this.ws.pipelines) {
        let k = ceil((a - EPOCH_US - p.phaseUs) / p.intervalUs);
        for (; ; k++) {
          const t = EPOCH_US + p.phaseUs + k * p.intervalUs;
          if (t >= b) break;
          if (t >= a) due.push([t, p.idx, k]);
        }
      }
      // In time order: records stored close to their neighbours in the time index read faster.
      due.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      for (const [t, p, k] of due) this.simulateRun(this.ws.pipelines[p], k, t);
      this.generatedUntil = b;
    }
    this.order.pipeline_runs = this.mergeNew(
      this.order.pipeline_runs,
      before.r,
      this.runs.n,
      this.runs.created.data,
    );
    this.order.task_runs = this.mergeNew(
      this.order.task_runs,
      before.t,
      this.tasks.n,
      this.tasks.created.data,
    );
    this.order.operations = this.mergeNew(
      this.order.operations,
      before.o,
      this.ops.n,
      this.ops.inserted.data,
    );
    this.generation++;
  }

  private mergeNew(old: Uint32Array, from: number, to: number, key: Float64Array): Uint32Array {
    if (to === from) return old;
    const fresh = new Uint32Array(to - from);
    for (let i = 0; i < fresh.length; i++) fresh[i] = from + i;
    fresh.sort((x, y) => key[x] - key[y] || x - y);
    return mergeSorted(old, fresh, key);
  }

  simulateRun(p: PipelineDef, k: number, scheduled: number): void {
    const rng = new Rng(this.seed, p.idx, k, 77);
    const created = round(scheduled + rng.range(0.05, 4) * S);
    const runIdx = this.runs.n;
    const trigger = rng.chance(0.85) ? 0 : rng.int(1, 4);
    // About one run in a hundred is a backfill or a stuck job: its first task runs for more than a day.
    const longRun = rng.chance(0.01);
    const factor = p.durationFactor;
    let started = NaN;
    let cancelling = NaN;
    let end: number;
    let final: number;
    const attempts: Attempt[] = [];
    if (rng.chance(0.02)) {
      end = round(created + rng.range(0.3, 3) * S);
      final = PR.SKIPPED;
    } else {
      started = round(created + rng.range(1, 20) * S);
      const slotEnd = new Map<number, { end: number; failed: boolean }>();
      let layerStart = started + round(rng.range(0.5, 3) * S);
      let upstreamFailed = false;
      let layerEnd = layerStart;
      let currentLayer = 0;
      for (const t of p.tasks) {
        if (t.layer !== currentLayer) {
          currentLayer = t.layer;
          layerStart = layerEnd + round(rng.range(0.5, 3) * S);
          upstreamFailed = p.tasks.some((u) => u.layer < t.layer && slotEnd.get(u.slot)?.failed);
        }
        let cur = layerStart + round(rng.range(0, 2) * S);
        if (upstreamFailed) {
          const end = cur + round(rng.range(0.1, 1) * S);
          attempts.push({
            slot: t.slot,
            attempt: 1,
            created: cur,
            queued: NaN,
            running: NaN,
            cancelling: NaN,
            end,
            final: TR.SKIPPED,
            superseded: Infinity,
          });
          slotEnd.set(t.slot, { end, failed: false });
          layerEnd = max(layerEnd, end);
          continue;
        }
        for (let a = 1; ; a++) {
          const queued = cur + round(rng.range(0.1, 3) * S);
          const running = queued + round(rng.range(0.5, 20) * S);
          const dur =
            longRun && t === p.tasks[0] && a === 1
              ? rng.range(25, 40) * 3600
              : max(1, rng.logNormal(t.medianSec * factor, 0.6));
          const end = running + round(dur * S);
          const r = rng.next();
          const outcome =
            r < t.failRate ? TR.FAILED : r < t.failRate + t.warnRate ? TR.WARNING : TR.SUCCEEDED;
          const att: Attempt = {
            slot: t.slot,
            attempt: a,
            created: cur,
            queued,
            running,
            cancelling: NaN,
            end,
            final: outcome,
            superseded: Infinity,
          };
          attempts.push(att);
          if (outcome === TR.FAILED && a <= t.retries) {
            cur = end + round(t.retryDelaySec * S);
            att.superseded = cur;
            continue;
          }
          slotEnd.set(t.slot, { end, failed: outcome === TR.FAILED });
          layerEnd = max(layerEnd, end);
          break;
        }
      }
      end = layerEnd + round(rng.range(0.5, 5) * S);
      const finals = attempts.filter((a) => a.superseded === Infinity).map((a) => a.final);
      final = finals.includes(TR.FAILED)
        ? PR.FAILED
        : finals.includes(TR.WARNING)
          ? PR.WARNING
          : PR.SUCCEEDED;
      if (rng.chance(0.03)) {
        // Cancelled part-way: later attempts never start, running ones go through CANCELLING.
        cancelling = round(started + rng.next() * (end - started));
        // Stopping external jobs takes a while: runs stay CANCELLING for seconds to many minutes.
        const cancelledAt = cancelling + round(rng.logNormal(120, 1) * S);
        for (let i = attempts.length - 1; i >= 0; i--) {
          const a = attempts[i];
          if (a.created > cancelling) {
            attempts.splice(i, 1);
            continue;
          }
          if (a.superseded > cancelling) a.superseded = Infinity;
          if (a.end > cancelling) {
            if (a.running < cancelling) a.cancelling = cancelling;
            if (!(a.queued <= cancelling)) a.queued = NaN;
            if (!(a.running <= cancelling)) a.running = NaN;
            a.end =
              a.running <= cancelling ? cancelledAt : cancelling + round(rng.range(0.1, 1) * S);
            a.final = TR.CANCELLED;
          }
        }
        end = max(cancelledAt, ...attempts.map((a) => a.end)) + round(rng.range(0.5, 3) * S);
        final = PR.CANCELLED;
      }
    }
    const anomaly = final !== PR.SKIPPED && rng.chance(0.05) ? 1 : 0;
    const r = this.runs;
    r.pipeline.push(p.idx, runIdx);
    r.k.push(k, runIdx);
    r.created.push(created, runIdx);
    r.started.push(started, runIdx);
    r.cancelling.push(cancelling, runIdx);
    r.end.push(end, runIdx);
    r.final.push(final, runIdx);
    r.firstTask.push(this.tasks.n, runIdx);
    r.taskCount.push(attempts.length, runIdx);
    r.flags.push(anomaly | (trigger << 1), runIdx);
    this.runKeyOf = p.idx * 2 ** 26 + k;
    r.n++;
    this.runByKey.set(p.idx * 2 ** 26 + k, runIdx);
    this.maxSpan.pipeline_runs = max(this.maxSpan.pipeline_runs, end - created);
    attempts.sort((a, b) => a.created - b.created || a.slot - b.slot);
    for (const a of attempts) this.pushAttempt(p, runIdx, a, rng);
  }

  private pushAttempt(p: PipelineDef, runIdx: number, a: Attempt, rng: Rng): void {
    const t = this.tasks;
    const i = t.n;
    t.run.push(runIdx, i);
    t.slot.push(a.slot, i);
    t.attempt.push(a.attempt, i);
    t.created.push(a.created, i);
    t.queued.push(a.queued, i);
    t.running.push(a.running, i);
    t.cancelling.push(a.cancelling, i);
    t.end.push(a.end, i);
    t.final.push(a.final, i);
    t.superseded.push(a.superseded, i);
    const taskKey = this.runKeyOf * 256 + a.slot * 8 + a.attempt;
    t.key.push(taskKey, i);
    t.firstOp.push(this.ops.n, i);
    t.n++;
    this.maxSpan.task_runs = max(this.maxSpan.task_runs, a.end - a.created);
    let count = 0;
    const def = p.tasks.find((d) => d.slot === a.slot);
    if (def && a.running < a.end) {
      const n = rng.int(def.kind.ops[0], def.kind.ops[1]);
      const stop = Number.isNaN(a.cancelling) ? a.end : a.cancelling;
      const times: number[] = [];
      for (let j = 0; j < n; j++) times.push(round(a.running + rng.next() * (stop - a.running)));
      times.sort((x, y) => x - y);
      for (let j = 0; j < n; j++) {
        const o = this.ops;
        const oi = o.n;
        const rr = rng.next();
        let status: number =
          rr < 0.85
            ? OP.SUCCEEDED
            : rr < 0.9
              ? OP.REUSED
              : rr < 0.93
                ? OP.SKIPPED
                : rr < 0.98
                  ? OP.WARNING
                  : OP.UNKNOWN;
        if (a.final === TR.FAILED && j === n - 1) status = OP.FAILED;
        if (a.final === TR.CANCELLED && j === n - 1) status = OP.CANCELLED;
        const dur = min(times[j] - a.running, round(rng.logNormal(20, 1) * S));
        o.task.push(i, oi);
        o.inserted.push(times[j], oi);
        o.started.push(times[j] - max(0, dur), oi);
        o.status.push(status, oi);
        o.ordinal.push(j, oi);
        o.key.push(taskKey * 256 + j, oi);
        o.n++;
        count++;
      }
    }
    t.opCount.push(count, i);
  }

  // --- State at simulated time `now` (µs). NaN comparisons are false, so absent steps never match.

  /** Average records (run + task runs + operations) one run of `p` produces, by simulating a sample. */
  static recordsPerRun(seed: number, p: PipelineDef, samples = 24): number {
    const scratch = new World(seed, { accountId: '', environments: [], pipelines: [p] }, 0);
    for (let j = 0; j < samples; j++) scratch.simulateRun(p, 1_000_000 + j * 7919, EPOCH_US);
    return (scratch.runs.n + scratch.tasks.n + scratch.ops.n) / samples;
  }

  runStatus(i: number, now: number): number {
    const r = this.runs;
    if (now >= r.end.data[i]) return r.final.data[i];
    if (now >= r.cancelling.data[i]) return PR.CANCELLING;
    if (now >= r.started.data[i]) return PR.RUNNING;
    return PR.CREATED;
  }

  runUpdated(i: number, now: number): number {
    const r = this.runs;
    if (now >= r.end.data[i]) return r.end.data[i];
    if (now >= r.cancelling.data[i]) return r.cancelling.data[i];
    if (now >= r.started.data[i]) return r.started.data[i];
    return r.created.data[i];
  }

  taskStatus(i: number, now: number): number {
    const t = this.tasks;
    if (now >= t.end.data[i]) return t.final.data[i];
    if (now >= t.cancelling.data[i]) return TR.CANCELLING;
    if (now >= t.running.data[i]) return TR.RUNNING;
    if (now >= t.queued.data[i]) return TR.QUEUED;
    return TR.CREATED;
  }

  taskUpdated(i: number, now: number): number {
    const t = this.tasks;
    if (now >= t.end.data[i]) return t.end.data[i];
    if (now >= t.cancelling.data[i]) return t.cancelling.data[i];
    if (now >= t.running.data[i]) return t.running.data[i];
    if (now >= t.queued.data[i]) return t.queued.data[i];
    return t.created.data[i];
  }

  /** Creation time (window field `created`) of record i of a stream. */
  createdKey(stream: StreamName): Float64Array {
    if (stream === 'pipeline_runs') return this.runs.created.data;
    if (stream === 'task_runs') return this.tasks.created.data;
    return this.ops.inserted.data;
  }

  count(stream: StreamName): number {
    return stream === 'pipeline_runs'
      ? this.runs.n
      : stream === 'task_runs'
        ? this.tasks.n
        : this.ops.n;
  }

  /** Time of the value of the window field `updated` (operations have none: insertedAt). */
  updatedAt(stream: StreamName, i: number, now: number): number {
    if (stream === 'pipeline_runs') return this.runUpdated(i, now);
    if (stream === 'task_runs') return this.taskUpdated(i, now);
    return this.ops.inserted.data[i];
  }

  runKey(i: number): number {
    return this.runs.pipeline.data[i] * 2 ** 26 + this.runs.k.data[i];
  }

  /** runKey * 256 + slot * 8 + attempt. */
  taskKey(i: number): number {
    return this.tasks.key.data[i];
  }

  /** taskKey * 256 + ordinal. */
  opKey(i: number): number {
    return this.ops.key.data[i];
  }
}
