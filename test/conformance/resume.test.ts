import { startSimulator } from 'orchestra-api-simulator';
import { Destination, nextState, recordsOf, statesOf } from '../helpers/messages';
import { spawn } from 'child_process';
import path from 'path';

import { catalogFor, ensureBuilt, ROOT, runMain, STREAMS, writeFiles } from '../helpers/sync';
import { compare, servedNow, summary } from '../helpers/truth';

const HOUR = 3_600_000;

describe('an interrupted sync', () => {
  it('resumes from its last checkpoint without loss', async () => {
    ensureBuilt();
    const sim = await startSimulator({
      seed: 13,
      clock: 'manual',
      start: '2026-03-10T12:00:00Z',
      records: 2500,
    });
    try {
      const files = writeFiles({
        'config.json': {
          api_key: 'simulator-key',
          api_url: sim.baseUrl,
          requests_per_minute: 100000,
          window_hours: 6,
          lookback_hours: 1,
        },
        'catalog.json': catalogFor('incremental'),
      });
      const args = ['read', '--config', files['config.json'], '--catalog', files['catalog.json']];
      // Killed (SIGKILL, like a lost worker) right after the task_runs stream's 4th checkpoint.
      let taskCheckpoints = 0;
      const first = await runMain(args, {
        killAfterLines: (line) =>
          line.includes('"type":"STATE"') && line.includes('"task_runs"') && ++taskCheckpoints >= 4,
      });
      expect(first.code).toBeNull();
      const partial = first.messages.slice(
        0,
        first.messages.findIndex((m) => m === statesOf(first.messages, 'task_runs')[3]) + 1,
      );
      expect(recordsOf(partial, 'operations')).toEqual([]);
      const checkpoint = statesOf(partial, 'task_runs')[3].state.stream.stream_state
        .cursor as string;

      const dest = new Destination();
      dest.apply(partial);
      sim.resetStats();
      const state = writeFiles({ 'state.json': nextState(partial) })['state.json'];
      const second = await runMain([...args, '--state', state]);
      expect(second.code).toBe(0);
      dest.apply(second.messages);

      // The second run picks task_runs up at the checkpoint (minus the 1 h look-back).
      const taskWindows = sim.requestLog.filter(
        (r) => r.endpoint === 'task_runs' && r.query.time_from,
      );
      expect(taskWindows[0].query.time_from).toBe(
        new Date(Date.parse(checkpoint) - HOUR).toISOString(),
      );
      for (const stream of STREAMS) {
        const result = compare(dest, stream, servedNow(sim, stream, 'created').served);
        expect({ stream, ...summary(result) }).toEqual({
          stream,
          ...summary(result),
          lost: 0,
          stale: 0,
        });
      }
    } finally {
      await sim.close();
    }
  });

  it('stops with a non-zero exit when the reader of stdout goes away', async () => {
    ensureBuilt();
    const sim = await startSimulator({
      seed: 13,
      clock: 'manual',
      start: '2026-03-10T12:00:00Z',
      records: 3000,
    });
    try {
      const files = writeFiles({
        'config.json': {
          api_key: 'simulator-key',
          api_url: sim.baseUrl,
          requests_per_minute: 100000,
          page_size: 10,
        },
        'catalog.json': catalogFor('full_refresh'),
      });
      const child = spawn(process.execPath, [
        path.join(ROOT, 'bin', 'main'),
        'read',
        '--config',
        files['config.json'],
        '--catalog',
        files['catalog.json'],
      ]);
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(1);
      // It stopped early: far fewer requests than a whole read of 3,000 records by 10.
      expect(sim.counters.total).toBeLessThan(100);
    } finally {
      await sim.close();
    }
  });
});
