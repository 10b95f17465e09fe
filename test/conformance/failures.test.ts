import { Injection, SimulatorHandle, startSimulator } from 'orchestra-api-simulator';
import { errorsOf, Msg, recordsOf, tracesOf } from '../helpers/messages';
import { protocolProblems } from '../helpers/protocol';
import { catalogFor, ensureBuilt, MainResult, runMain, writeFiles } from '../helpers/sync';

/**
 * A stream that fails in the middle of a sync, through the real bin/main against the simulator with
 * faults forced on one endpoint: the failure type tells the platform what to do (retry the attempt,
 * ask the user, or report a bug), the failed stream says INCOMPLETE before its error, and the
 * other streams' statuses say what really happened to them.
 */

const START = '2026-03-10T12:00:00Z';

async function readWithFaults(faults: Injection[]): Promise<MainResult> {
  const sim: SimulatorHandle = await startSimulator({
    seed: 21,
    clock: 'manual',
    start: START,
    records: 300,
  });
  try {
    sim.inject(faults);
    const files = writeFiles({
      'config.json': {
        api_key: 'simulator-key',
        api_url: sim.baseUrl,
        requests_per_minute: 100000,
        // Retries give up within about a second: the test is about what happens after.
        retry_budget_seconds: 1,
        request_timeout_seconds: 1,
      },
      'catalog.json': catalogFor('incremental'),
    });
    return await runMain([
      'read',
      '--config',
      files['config.json'],
      '--catalog',
      files['catalog.json'],
    ]);
  } finally {
    await sim.close();
  }
}

/** Each stream's STREAM_STATUS values, in order. */
function statuses(messages: Msg[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of tracesOf(messages, 'STREAM_STATUS')) {
    const name = m.trace.stream_status.stream_descriptor.name as string;
    (out[name] ??= []).push(m.trace.stream_status.status as string);
  }
  return out;
}

const on = (fault: Injection['fault'], status?: number): Injection[] => [
  { fault, count: 200, endpoint: 'task_runs', ...(status ? { status } : {}) },
];

describe('a stream that fails mid-sync, through bin/main', () => {
  beforeAll(() => ensureBuilt());

  // [what, failure type, faults on task_runs, message, what operations (after it) does]
  it.each<[string, string, Injection[], RegExp, 'completes' | 'is not started']>([
    [
      'HTTP 503 until retries run out',
      'transient_error',
      on('serverError', 503),
      /HTTP 503 .*task_runs.*Orchestra's side/,
      'completes',
    ],
    [
      'HTTP 429 until retries run out',
      'transient_error',
      on('rateLimited'),
      /kept rate-limiting .*task_runs.*\(429\)/,
      'completes',
    ],
    [
      'connections reset until retries run out',
      'transient_error',
      on('reset'),
      /connection to .* failed during GET \/task_runs/,
      'completes',
    ],
    [
      'truncated bodies until retries run out',
      'transient_error',
      on('truncated'),
      /malformed response to GET \/task_runs/,
      'completes',
    ],
    [
      'HTTP 403 (access withdrawn)',
      'config_error',
      on('serverError', 403),
      /refused access \(403\)/,
      'is not started',
    ],
    [
      'an HTTP status the API never documents (418)',
      'system_error',
      on('serverError', 418),
      /answered HTTP 418 on GET \/task_runs/,
      'completes',
    ],
  ])(
    '%s: %s, INCOMPLETE before the error, truthful statuses',
    async (_what, type, faults, message, after) => {
      const result = await readWithFaults(faults);
      expect(result.lines.flatMap(protocolProblems)).toEqual([]);
      expect(result.code).toBe(1);

      const errors = errorsOf(result.messages);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        failure_type: type,
        stream_descriptor: { name: 'task_runs' },
      });
      expect(errors[0].message).toMatch(message);

      const byStream = statuses(result.messages);
      // pipeline_runs ran before the failure and completed.
      expect(byStream.pipeline_runs[0]).toBe('STARTED');
      expect(byStream.pipeline_runs.at(-1)).toBe('COMPLETE');
      expect(recordsOf(result.messages, 'pipeline_runs').length).toBeGreaterThan(0);
      // task_runs: started, never completed; INCOMPLETE comes before its error.
      expect(byStream.task_runs[0]).toBe('STARTED');
      expect(byStream.task_runs.at(-1)).toBe('INCOMPLETE');
      expect(byStream.task_runs).not.toContain('COMPLETE');
      const incompleteAt = result.messages.findIndex(
        (m) =>
          m.type === 'TRACE' &&
          m.trace.type === 'STREAM_STATUS' &&
          m.trace.stream_status.stream_descriptor.name === 'task_runs' &&
          m.trace.stream_status.status === 'INCOMPLETE',
      );
      const errorAt = result.messages.findIndex(
        (m) => m.type === 'TRACE' && m.trace.type === 'ERROR',
      );
      expect(incompleteAt).toBeGreaterThanOrEqual(0);
      expect(incompleteAt).toBeLessThan(errorAt);
      // operations: a transient or unexpected failure of another stream does not stop it; a config
      // problem would fail it the same way, so it is reported INCOMPLETE without being started.
      if (after === 'completes') {
        expect(byStream.operations[0]).toBe('STARTED');
        expect(byStream.operations.at(-1)).toBe('COMPLETE');
        expect(recordsOf(result.messages, 'operations').length).toBeGreaterThan(0);
      } else {
        expect(byStream.operations).toEqual(['INCOMPLETE']);
        expect(recordsOf(result.messages, 'operations')).toEqual([]);
      }
    },
  );
});
