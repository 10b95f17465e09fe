import { startSimulator } from 'orchestra-api-simulator';
import { Destination, nextState, Msg, Rec } from '../helpers/messages';
import { syncInProcess } from '../helpers/sync';
import { compare, servedNow, summary, WindowField } from '../helpers/truth';

const START = '2026-03-01T00:00:00Z';
const HOUR = 3_600_000;
const DAYS = 14;
const SYNC_EVERY_HOURS = 6;
const STREAMS = ['pipeline_runs', 'task_runs', 'operations'];

describe.each(['created', 'updated'] as WindowField[])(
  'soak, hostile API, window field %s',
  (windowField) => {
    it(`after ${DAYS} simulated days of syncs every ${SYNC_EVERY_HOURS} h, every record the API served is present and current`, async () => {
      const sim = await startSimulator({
        seed: 21,
        clock: 'manual',
        start: START,
        records: 3000,
        scenario: 'hostile',
        windowField,
        // Every hostile fault stays on. Only real waiting is shortened so the soak fits in a test:
        // hangs drop the connection after 200 ms instead of 30 s, slow answers take 20 ms, and the
        // real-time per-minute limiter is off (injected 429s with Retry-After still happen).
        hangMs: 200,
        slowMs: 20,
        rateLimit: 0,
      });
      try {
        const config = {
          api_url: sim.baseUrl,
          requests_per_minute: 100000,
          pages_in_flight: 3,
          page_size: 50,
          window_hours: 6,
          request_timeout_seconds: 5,
        };
        const dest = new Destination();
        const lastServed = new Map<string, Map<string, Rec>>(STREAMS.map((s) => [s, new Map()]));
        let state: Msg[] = [];
        let failedSyncs = 0;
        let syncs = 0;
        for (let hour = 0; hour < DAYS * 24; hour += SYNC_EVERY_HOURS) {
          sim.clock.advance(SYNC_EVERY_HOURS * HOUR);
          // Waits are decided by the production retry policy and skipped: the clock is simulated.
          const result = await syncInProcess(config, state, { sleep: async () => undefined });
          syncs++;
          if (result.failed) failedSyncs++;
          dest.apply(result.messages);
          state = nextState(result.messages, state);
          for (const stream of STREAMS) {
            for (const record of servedNow(sim, stream, windowField).served) {
              lastServed.get(stream)?.set(record.id as string, record);
            }
          }
        }
        const results = STREAMS.map((stream) => ({
          stream,
          ...summary(compare(dest, stream, lastServed.get(stream)?.values() ?? [])),
        }));
        const faults = sim.counters.byFault;
        console.log(
          `soak ${windowField}: ${syncs} syncs (${failedSyncs} failed and resumed), faults ${JSON.stringify(faults)}, ` +
            results
              .map((r) => `${r.stream}: ${r.checked} checked, ${r.lost} lost, ${r.stale} stale`)
              .join('; '),
        );
        for (const r of results) {
          expect(r).toEqual({ ...r, lost: 0, stale: 0 });
          expect(r.checked).toBeGreaterThan(100);
        }
        expect(Object.keys(faults).length).toBeGreaterThanOrEqual(6);
      } finally {
        await sim.close();
      }
    });
  },
);
