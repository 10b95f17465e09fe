import { SimulatorHandle, startSimulator } from 'orchestra-api-simulator';
import { streamDefinition } from '../../src/streams/registry';
import { Destination, nextState, recordsOf, statesOf } from '../helpers/messages';
import { syncInProcess } from '../helpers/sync';
import {
  advanceUntilRunsOpen,
  compare,
  servedNow,
  summary,
  truthRecords,
  WindowField,
} from '../helpers/truth';

const START = '2026-03-10T12:00:00Z';
const HOUR = 3_600_000;
const STREAMS = ['pipeline_runs', 'task_runs', 'operations'];
const combos: Array<[WindowField, 'asc' | 'desc' | 'shuffled']> = [];
for (const field of ['created', 'updated'] as const) {
  for (const order of ['asc', 'desc', 'shuffled'] as const) combos.push([field, order]);
}

describe.each(combos)('incremental sync, window field %s, order %s', (windowField, order) => {
  it('loses nothing and brings runs seen unfinished to their final state on the next sync', async () => {
    const sim = await startSimulator({
      seed: 11,
      clock: 'manual',
      start: START,
      records: 4000,
      windowField,
      order,
    });
    try {
      const config = {
        api_url: sim.baseUrl,
        requests_per_minute: 100000,
        pages_in_flight: 3,
        page_size: 40,
        window_hours: 12,
        // No look-back: runs seen unfinished must come back through the re-fetch by id alone.
        lookback_hours: 0,
      };
      advanceUntilRunsOpen(sim);
      const dest = new Destination();
      const first = await syncInProcess(config, []);
      expect(first.failed).toBe(false);
      dest.apply(first.messages);

      const openAtFirst = new Map<string, string[]>();
      for (const stream of ['pipeline_runs', 'task_runs']) {
        const def = streamDefinition(stream);
        const open = recordsOf(first.messages, stream)
          .filter((r) => def.open_statuses.includes(r[def.status_field] as string))
          .map((r) => r.id as string);
        openAtFirst.set(stream, open);
      }
      expect(openAtFirst.get('pipeline_runs')?.length).toBeGreaterThan(0);
      expect(openAtFirst.get('task_runs')?.length).toBeGreaterThan(0);

      // Let time pass until some of those runs have finished (some simulated runs run for days).
      for (let waited = 0; waited < 72 && !someFinished(sim, openAtFirst); waited += 2) {
        sim.clock.advance(2 * HOUR);
      }
      const second = await syncInProcess(config, nextState(first.messages));
      expect(second.failed).toBe(false);
      dest.apply(second.messages);

      for (const stream of STREAMS) {
        const { served } = servedNow(sim, stream, windowField);
        const result = compare(dest, stream, served);
        expect({ stream, ...summary(result) }).toEqual({
          stream,
          ...summary(result),
          lost: 0,
          stale: 0,
        });
        expect(result.checked).toBeGreaterThan(10);
      }
      // Runs seen unfinished: now in their final state, even with a created-time window filter.
      for (const [stream, ids] of openAtFirst) {
        const def = streamDefinition(stream);
        const truth = new Map(truthRecords(sim, stream).map((r) => [r.id as string, r]));
        const table = dest.table(stream);
        const notFinal = ids.filter(
          (id) => table.get(id)?.[def.status_field] !== truth.get(id)?.[def.status_field],
        );
        expect({ stream, notFinal }).toEqual({ stream, notFinal: [] });
        const finishedSince = ids.filter(
          (id) => !def.open_statuses.includes(truth.get(id)?.[def.status_field] as string),
        );
        expect(finishedSince.length).toBeGreaterThan(0);
      }
    } finally {
      await sim.close();
    }
  });
});

function someFinished(sim: SimulatorHandle, open: Map<string, string[]>): boolean {
  return [...open].every(([stream, ids]) => {
    const def = streamDefinition(stream);
    const truth = new Map(truthRecords(sim, stream).map((r) => [r.id as string, r]));
    return ids.some(
      (id) => !def.open_statuses.includes(truth.get(id)?.[def.status_field] as string),
    );
  });
}

describe('incremental state', () => {
  it('resumes the second sync from the first sync cursor minus the look-back', async () => {
    const sim = await startSimulator({ seed: 3, clock: 'manual', start: START, records: 600 });
    try {
      const config = { api_url: sim.baseUrl, requests_per_minute: 100000, lookback_hours: 2 };
      const first = await syncInProcess(config, [], { streams: ['operations'] });
      const cursor = statesOf(first.messages, 'operations').pop()?.state.stream.stream_state.cursor;
      expect(typeof cursor).toBe('string');
      sim.clock.advance(HOUR);
      sim.resetStats();
      await syncInProcess(config, nextState(first.messages), { streams: ['operations'] });
      const windowed = sim.requestLog.filter(
        (r) => r.endpoint === 'operations' && r.query.time_from,
      );
      const firstFrom = Date.parse(windowed[0].query.time_from);
      expect(new Date(firstFrom).toISOString()).toBe(
        new Date(Date.parse(cursor) - 2 * HOUR).toISOString(),
      );
    } finally {
      await sim.close();
    }
  });
});
