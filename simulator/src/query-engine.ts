/**
 * Evaluates a list query against the world at simulated time `now`: the window on the configured
 * field, retention, filters, hidden superseded attempts, and the configured order. The ordered match
 * list is cached per (query, now), so paging through a window costs one scan plus O(page) per page.
 */
import { lowerBound, upperBound } from './columns';
import { StreamName } from './constants';
import { Order, WindowField } from './options';
import { hash } from './prng';
import { ListQuery } from './query';
import { World } from './world';

// Module-level bindings: global lookups are slow inside test-runner VM contexts (jest).
const { max, min } = Math;

interface CacheEntry {
  ids: Uint32Array;
}

// A few windows being paged at once; each entry can hold a million indices.
const CACHE_SIZE = 16;

export interface EngineSettings {
  windowField: WindowField;
  order: Order;
  retentionDays: number;
}

export class Engine {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly world: World,
    public settings: EngineSettings,
  ) {}

  clearCache(): void {
    this.cache.clear();
  }

  /** Indices of the matching records, in response order. */
  match(q: ListQuery, now: number): Uint32Array {
    const s = this.settings;
    const fast = s.order !== 'shuffled' ? this.plainWindow(q, now) : undefined;
    if (fast && s.order === 'asc') return fast;
    const key = `${q.key}|${now}|${this.world.generation}|${s.windowField}|${s.order}|${s.retentionDays}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.ids;
    }
    // Descending: the same slice, reversed once per (query, now).
    const ids = fast ? Uint32Array.from(fast).reverse() : this.compute(q, now);
    this.cache.set(key, { ids });
    if (this.cache.size > CACHE_SIZE) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return ids;
  }

  /**
   * The common case (a window on creation time, no other filter) is a slice of the creation-time
   * index: no scan, no copy (ascending order).
   */
  private plainWindow(q: ListQuery, now: number): Uint32Array | undefined {
    const stream = q.stream;
    if (q.parentRun !== undefined) return undefined;
    if (this.settings.windowField !== 'created' && stream !== 'operations') return undefined;
    if (q.statuses || q.pipelines || q.runs || q.environments || q.integrations || q.tasks)
      return undefined;
    if (q.operationTypes || q.externalId !== undefined) return undefined;
    if (stream === 'task_runs' && !q.includeSuperseded) return undefined;
    const w = this.world;
    const created = w.createdKey(stream);
    const order = w.order[stream];
    const retentionCut =
      this.settings.retentionDays > 0 ? now - this.settings.retentionDays * 86400e6 : -Infinity;
    const start = lowerBound(order, order.length, created, Math.max(q.from, retentionCut));
    const end = upperBound(order, order.length, created, Math.min(q.to, now));
    return order.subarray(start, Math.max(start, end));
  }

  private windowValue(stream: StreamName, i: number, now: number): number {
    if (this.settings.windowField === 'created') return this.world.createdKey(stream)[i];
    return this.world.updatedAt(stream, i, now);
  }

  private compute(q: ListQuery, now: number): Uint32Array {
    const w = this.world;
    const stream = q.stream;
    const created = w.createdKey(stream);
    const retentionCut =
      this.settings.retentionDays > 0 ? now - this.settings.retentionDays * 86400e6 : -Infinity;
    const byUpdated = this.settings.windowField === 'updated' && stream !== 'operations';
    const useWindow = q.parentRun === undefined;
    const lo = max(q.from, retentionCut);
    const hi = min(q.to, now);

    let candidates: Iterable<number>;
    if (q.parentRun !== undefined) {
      const first = w.runs.firstTask.data[q.parentRun];
      const n = w.runs.taskCount.data[q.parentRun];
      candidates = Array.from({ length: n }, (_, j) => first + j);
    } else if (stream === 'pipeline_runs' && q.runs) {
      candidates = [...q.runs].filter((i) => i >= 0);
    } else if (stream === 'task_runs' && q.tasks) {
      candidates = [...q.tasks].filter((i) => i >= 0);
    } else {
      const order = w.order[stream];
      const len = order.length;
      const start = lowerBound(order, len, created, byUpdated ? lo - w.maxSpan[stream] : lo);
      const end = upperBound(order, len, created, hi);
      candidates = order.subarray(start, max(start, end));
    }

    const out: number[] = [];
    const keys: number[] = [];
    for (const i of candidates) {
      if (created[i] > now) continue;
      const v = useWindow || byUpdated ? this.windowValue(stream, i, now) : created[i];
      if (v < retentionCut) continue;
      if (useWindow && (v < q.from || v > q.to)) continue;
      if (!this.filter(q, i, now)) continue;
      out.push(i);
      keys.push(v);
    }
    return this.sort(out, keys, stream);
  }

  private filter(q: ListQuery, i: number, now: number): boolean {
    const w = this.world;
    if (q.stream === 'pipeline_runs') {
      if (q.runs && !q.runs.has(i)) return false;
      if (q.statuses && !q.statuses.has(w.runStatus(i, now))) return false;
      const p = w.runs.pipeline.data[i];
      if (q.pipelines && !q.pipelines.has(p)) return false;
      if (q.environments && !q.environments.has(w.ws.pipelines[p].envIdx)) return false;
      return true;
    }
    if (q.stream === 'task_runs') {
      if (!q.includeSuperseded && w.tasks.superseded.data[i] <= now) return false;
      if (q.tasks && !q.tasks.has(i)) return false;
      if (q.statuses && !q.statuses.has(w.taskStatus(i, now))) return false;
      const run = w.tasks.run.data[i];
      const p = w.runs.pipeline.data[run];
      if (q.pipelines && !q.pipelines.has(p)) return false;
      if (q.integrations) {
        const def = w.ws.pipelines[p].tasks.find((d) => d.slot === w.tasks.slot.data[i]);
        if (!def || !q.integrations.has(def.kind.integration)) return false;
      }
      return true;
    }
    // operations
    if (q.statuses && !q.statuses.has(w.ops.status.data[i])) return false;
    const task = w.ops.task.data[i];
    if (q.tasks && !q.tasks.has(task)) return false;
    if (q.integrations || q.operationTypes || q.externalId !== undefined) {
      // Rarely used filters: derive the values the way the serializer does.
      const rec = JSON.parse(this.serializeOp(i)) as {
        integration?: string;
        operationType: string;
        externalId: string;
      };
      if (q.integrations && !q.integrations.has(rec.integration ?? '')) return false;
      if (q.operationTypes && !q.operationTypes.has(rec.operationType)) return false;
      if (q.externalId !== undefined && rec.externalId !== q.externalId) return false;
    }
    return true;
  }

  /** Set by the server: serializes an operation (its derived fields live in the serializer). */
  serializeOp: (i: number) => string = () => '{}';

  private recordKey(stream: StreamName, i: number): number {
    const w = this.world;
    return stream === 'pipeline_runs'
      ? w.runKey(i)
      : stream === 'task_runs'
        ? w.taskKey(i)
        : w.opKey(i);
  }

  private sort(ids: number[], keys: number[], stream: StreamName): Uint32Array {
    const n = ids.length;
    const perm = new Uint32Array(n);
    for (let j = 0; j < n; j++) perm[j] = j;
    const order = this.settings.order;
    let ascending = true;
    for (let j = 1; j < n && ascending; j++) ascending = keys[j - 1] <= keys[j];
    if (ascending && order !== 'shuffled') {
      // Scans of the created-time index are already in order: skip the sort.
      const out = Uint32Array.from(ids);
      return order === 'asc' ? out : out.reverse();
    }
    if (order === 'shuffled') {
      // Stable across requests: ordered by a hash of the record, as an unindexed scan might be.
      const seed = this.world.seed;
      const h = ids.map((i) => hash(seed, this.recordKey(stream, i), 5));
      perm.sort((a, b) => h[a] - h[b] || ids[a] - ids[b]);
    } else {
      const dir = order === 'asc' ? 1 : -1;
      perm.sort((a, b) => dir * (keys[a] - keys[b] || ids[a] - ids[b]));
    }
    const out = new Uint32Array(n);
    for (let j = 0; j < n; j++) out[j] = ids[perm[j]];
    return out;
  }
}
