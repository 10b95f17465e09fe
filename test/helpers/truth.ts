import { SimulatorHandle } from 'orchestra-api-simulator';
import { Normalizer } from '../../src/streams/normalize';
import { streamSchema } from '../../src/streams/registry';
import { RETENTION_MARGIN_MS, RETENTION_MS, SAFETY_LAG_MS } from '../../src/streams/slices';
import { Destination, Rec } from './messages';

export type WindowField = 'created' | 'updated';

const normalizers = new Map<string, Normalizer>();

/** The simulator's ground truth in stream-record form (snake_case, every schema field present). */
export function truthRecords(
  sim: SimulatorHandle,
  stream: string,
  includeSuperseded = true,
): Rec[] {
  let n = normalizers.get(stream);
  if (!n) {
    n = new Normalizer(Object.keys(streamSchema(stream).properties));
    normalizers.set(stream, n);
  }
  const normalizer = n;
  return sim.truth(stream as never, { includeSuperseded }).map((r) => normalizer.normalize(r));
}

function windowValue(stream: string, record: Rec, field: WindowField): number {
  if (stream === 'operations') return Date.parse(record.inserted_at as string);
  return Date.parse((field === 'created' ? record.created_at : record.updated_at) as string);
}

function changedAt(stream: string, record: Rec): number {
  return Date.parse((stream === 'operations' ? record.inserted_at : record.updated_at) as string);
}

/**
 * The records the API served at simulated time `now` (latest versions), minus those a correct
 * client cannot have seen yet because they changed within the safety lag.
 */
export function servedNow(
  sim: SimulatorHandle,
  stream: string,
  field: WindowField,
): { served: Rec[]; inFlight: Rec[] } {
  const now = sim.clock.now().getTime();
  // One extra minute of margin: the client's "now" comes from a Date header (whole seconds).
  const oldest = now - RETENTION_MS + RETENTION_MARGIN_MS + 60_000;
  const newest = now - SAFETY_LAG_MS - 5_000;
  const served: Rec[] = [];
  const inFlight: Rec[] = [];
  const listed = truthRecords(sim, stream, stream !== 'task_runs');
  for (const record of listed) {
    const v = windowValue(stream, record, field);
    if (v < oldest) continue;
    if (v > newest || changedAt(stream, record) > newest) inFlight.push(record);
    else served.push(record);
  }
  return { served, inFlight };
}

export interface Comparison {
  checked: number;
  lost: string[];
  stale: Array<{ id: string; field: string; expected: unknown; got: unknown }>;
}

/**
 * Nested values without null members: with optional fields omitted, the API also drops nulls
 * inside nested objects, while the truth spells them out. Top-level nulls are compared as is.
 */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = canonical(v);
  return out;
}

/** Every expected record must be in the destination, equal field by field. */
export function compare(dest: Destination, stream: string, expected: Iterable<Rec>): Comparison {
  const table = dest.table(stream);
  const result: Comparison = { checked: 0, lost: [], stale: [] };
  for (const want of expected) {
    result.checked++;
    const id = want.id as string;
    const got = table.get(id);
    if (!got) {
      result.lost.push(id);
      continue;
    }
    // A destination holding a newer version than the one expected is current, not stale.
    if (changedAt(stream, got) > changedAt(stream, want)) continue;
    for (const [field, value] of Object.entries(want)) {
      if (JSON.stringify(canonical(got[field])) !== JSON.stringify(canonical(value))) {
        result.stale.push({ id, field, expected: value, got: got[field] });
        break;
      }
    }
  }
  return result;
}

export interface Summary {
  checked: number;
  lost: number;
  stale: number;
  firstLost: string[];
  firstStale: Comparison['stale'];
}

/** A short, readable summary for assertion messages. */
export function summary(c: Comparison): Summary {
  return {
    checked: c.checked,
    lost: c.lost.length,
    stale: c.stale.length,
    firstLost: c.lost.slice(0, 3),
    firstStale: c.stale.slice(0, 3),
  };
}

/**
 * Advances the simulated clock in 5-minute steps until pipeline runs and task runs are in progress
 * (changed over two minutes ago, so a sync can read them): the moment a first sync should see.
 */
export function advanceUntilRunsOpen(sim: SimulatorHandle, maxSteps = 500): void {
  const open = ['CREATED', 'RUNNING', 'QUEUED', 'CANCELLING'];
  for (let step = 0; step < maxSteps; step++) {
    const now = sim.clock.now().getTime();
    const readable = (stream: 'pipeline_runs' | 'task_runs'): boolean =>
      sim
        .truth(stream)
        .some(
          (r) =>
            open.includes((r.runStatus ?? r.status) as string) &&
            Date.parse(r.updatedAt as string) < now - 120_000,
        );
    if (readable('pipeline_runs') && readable('task_runs')) return;
    sim.clock.advance(5 * 60_000);
  }
  throw new Error('the simulator never had runs in progress: raise records or maxSteps');
}
