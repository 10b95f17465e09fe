import fs from 'fs';
import path from 'path';

import { SimulatorHandle, startSimulator } from 'orchestra-api-simulator';
import { snakeCase } from '../../src/streams/normalize';
import { errorsOf, Msg, nextState, recordsOf, statesOf, tracesOf } from '../helpers/messages';
import { catalogProblems, protocolProblems, recordValidator } from '../helpers/protocol';
import { catalogFor, ensureBuilt, ROOT, runMain, STREAMS, writeFiles } from '../helpers/sync';

/**
 * The acceptance-test behaviours, run against the real bin/main as a subprocess: every stdout line
 * must be a valid Airbyte message, every record valid against its discovered schema.
 */

const START = '2026-03-10T12:00:00Z';
const API_RESPONSES: Record<string, string> = {
  pipeline_runs: 'PipelineRunResponse',
  task_runs: 'TaskRunResponse',
  operations: 'OperationResponse',
};

function expectProtocolLines(lines: string[]): void {
  const problems = lines.flatMap(protocolProblems);
  expect(problems).toEqual([]);
  const faros = lines.filter((l) => l.includes('__faros'));
  expect(faros).toEqual([]);
}

describe('Airbyte protocol conformance of bin/main', () => {
  let sim: SimulatorHandle;
  let files: Record<string, string>;
  let discovered: Msg;

  beforeAll(async () => {
    ensureBuilt();
    sim = await startSimulator({ seed: 9, clock: 'manual', start: START, records: 1200 });
    const config = { api_key: 'simulator-key', api_url: sim.baseUrl, requests_per_minute: 100000 };
    files = writeFiles({
      'config.json': config,
      'wrong-key.json': { ...config, api_key: 'not-the-key' },
      'incremental.json': catalogFor('incremental'),
      'full.json': catalogFor('full_refresh'),
      'empty-state.json': [],
      // PyAirbyte writes catalog and state as .txt files.
      'config.txt': JSON.stringify(config),
      'catalog.txt': JSON.stringify(catalogFor('incremental')),
      'state.txt': '[]',
    });
    const result = await runMain(['discover', '--config', files['config.json']]);
    discovered = result.messages[0];
  });
  afterAll(() => sim.close());

  it('spec: one SPEC message, draft-07, only api_key required, the key a secret, no vendor fields', async () => {
    const result = await runMain(['spec']);
    expect(result.code).toBe(0);
    expect(result.lines).toHaveLength(1);
    expectProtocolLines(result.lines);
    const spec = result.messages[0].spec.connectionSpecification;
    expect(spec.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(spec.required).toEqual(['api_key']);
    expect(spec.properties.api_key.airbyte_secret).toBe(true);
    const names = Object.keys(spec.properties);
    for (const faros of [
      'debug',
      'faros_source_id',
      'check_connection',
      'source_heartbeat_interval_ms',
    ]) {
      expect(names).not.toContain(faros);
    }
    expect(result.messages[0].spec).toEqual(
      JSON.parse(fs.readFileSync(path.join(ROOT, 'resources', 'spec.json'), 'utf8')),
    );
  });

  it('check succeeds with a good key', async () => {
    const result = await runMain(['check', '--config', files['config.json']]);
    expect(result.code).toBe(0);
    expectProtocolLines(result.lines);
    expect(result.messages).toEqual([
      { type: 'CONNECTION_STATUS', connectionStatus: { status: 'SUCCEEDED' } },
    ]);
  });

  it('check with a wrong key: exactly one CONNECTION_STATUS FAILED with the message, no TRACE, exit 0', async () => {
    const result = await runMain(['check', '--config', files['wrong-key.json']]);
    expectProtocolLines(result.lines);
    expect(result.code).toBe(0);
    const statuses = result.messages.filter((m) => m.type === 'CONNECTION_STATUS');
    expect(statuses).toHaveLength(1);
    expect(statuses[0].connectionStatus.status).toBe('FAILED');
    expect(statuses[0].connectionStatus.message).toMatch(/rejected the API key \(401\)/);
    expect(result.messages.filter((m) => m.type === 'TRACE')).toEqual([]);
  });

  it('discover: exactly the three streams, schemas from resources/schemas, primary key and cursor', () => {
    expectProtocolLines([JSON.stringify(discovered)]);
    const streams = discovered.catalog.streams as Msg[];
    expect(streams.map((s) => s.name)).toEqual([...STREAMS]);
    const cursors: Record<string, string> = {
      pipeline_runs: 'updated_at',
      task_runs: 'updated_at',
      operations: 'inserted_at',
    };
    for (const s of streams) {
      const file = path.join(ROOT, 'resources', 'schemas', `${s.name}.json`);
      expect(s.json_schema).toEqual(JSON.parse(fs.readFileSync(file, 'utf8')));
      expect(s.source_defined_primary_key).toEqual([['id']]);
      expect(s.default_cursor_field).toEqual([cursors[s.name]]);
      expect(s.source_defined_cursor).toBe(true);
      expect(s.supported_sync_modes).toEqual(['full_refresh', 'incremental']);
    }
  });

  it('discover: schemas cover every field of the OpenAPI responses, snake_case, enums as plain strings', () => {
    const openapi = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'contracts', 'orchestra-openapi.json'), 'utf8'),
    );
    for (const s of discovered.catalog.streams as Msg[]) {
      const response = openapi.components.schemas[API_RESPONSES[s.name]];
      const missing = Object.keys(response.properties)
        .map(snakeCase)
        .filter((field) => !(field in s.json_schema.properties));
      expect({ stream: s.name, missing }).toEqual({ stream: s.name, missing: [] });
      expect(JSON.stringify(s.json_schema)).not.toContain('"enum"');
    }
  });

  it('discover: identical output with and without WORKER_JOB_ID', async () => {
    const withJob = await runMain(['discover', '--config', files['config.json']], {
      env: { ...process.env, WORKER_JOB_ID: '42' },
    });
    const without = await runMain(['discover', '--config', files['config.json']]);
    expect(withJob.stdout).toBe(without.stdout);
  });

  it('read: valid messages, valid records, stream statuses, estimates, per-stream STATE with record counts', async () => {
    const result = await runMain([
      'read',
      '--config',
      files['config.json'],
      '--catalog',
      files['incremental.json'],
    ]);
    expect(result.code).toBe(0);
    expectProtocolLines(result.lines);
    expect(errorsOf(result.messages)).toEqual([]);
    const catalog = discovered.catalog.streams as Msg[];
    for (const stream of catalog) {
      const validate = recordValidator(stream.json_schema);
      const records = recordsOf(result.messages, stream.name);
      expect(records.length).toBeGreaterThan(0);
      const invalid = records.flatMap((r) => validate(r).map((p) => `${r.id}: ${p}`));
      expect(invalid.slice(0, 5)).toEqual([]);
      const statuses = tracesOf(result.messages, 'STREAM_STATUS')
        .filter((m) => m.trace.stream_status.stream_descriptor.name === stream.name)
        .map((m) => m.trace.stream_status.status);
      expect(statuses).toEqual(['STARTED', 'RUNNING', 'COMPLETE']);
      const estimates = tracesOf(result.messages, 'ESTIMATE').filter(
        (m) => m.trace.estimate.name === stream.name,
      );
      expect(estimates.length).toBeGreaterThan(0);
    }
    // sourceStats.recordCount counts the stream's records since its previous STATE.
    const counts = new Map<string, number>();
    let checkpoints = 0;
    for (const m of result.messages) {
      if (m.type === 'RECORD') counts.set(m.record.stream, (counts.get(m.record.stream) ?? 0) + 1);
      if (m.type === 'STATE') {
        const name = m.state.stream.stream_descriptor.name;
        expect(m.state.type).toBe('STREAM');
        expect({ name, recordCount: m.state.sourceStats.recordCount }).toEqual({
          name,
          recordCount: counts.get(name) ?? 0,
        });
        counts.set(name, 0);
        checkpoints++;
      }
    }
    expect(checkpoints).toBeGreaterThan(STREAMS.length * 2);
    // recordCount is written as a double, as the protocol asks.
    expect(result.lines.find((l) => l.includes('"sourceStats"'))).toMatch(/"recordCount":\d+\.\d/);
  });

  it('read: two full refreshes in a row, the first a subset of the second by primary key, each stream ending with its state', async () => {
    const args = ['read', '--config', files['config.json'], '--catalog', files['full.json']];
    const first = await runMain(args);
    // A full refresh ignores any state it is given: it re-reads everything every time.
    const state = writeFiles({ 'full-state.json': nextState(first.messages) })['full-state.json'];
    const second = await runMain([...args, '--state', state]);
    for (const r of [first, second]) {
      expect(r.code).toBe(0);
      expectProtocolLines(r.lines);
      for (const stream of STREAMS) {
        // Exactly one STATE per stream, after its last record and before its COMPLETE status,
        // counting every record of the stream: the final state Airbyte's Python CDK emits.
        const states = statesOf(r.messages, stream);
        expect({ stream, states: states.length }).toEqual({ stream, states: 1 });
        const at = r.messages.indexOf(states[0]);
        const lastRecord = r.messages
          .map((m, i) => (m.type === 'RECORD' && m.record.stream === stream ? i : -1))
          .reduce((a, b) => Math.max(a, b), -1);
        const complete = r.messages.findIndex(
          (m) =>
            m.type === 'TRACE' &&
            m.trace.type === 'STREAM_STATUS' &&
            m.trace.stream_status.stream_descriptor.name === stream &&
            m.trace.stream_status.status === 'COMPLETE',
        );
        expect(at).toBeGreaterThan(lastRecord);
        expect(at).toBeLessThan(complete);
        const { state: s } = states[0];
        expect(s.type).toBe('STREAM');
        expect(s.sourceStats.recordCount).toBe(recordsOf(r.messages, stream).length);
        // The meaningful cursor of a stream that can run incrementally, not a placeholder.
        expect(s.stream.stream_state).toEqual({
          cursor: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
          cursor_field: [stream === 'operations' ? 'inserted_at' : 'updated_at'],
          open_ids: expect.any(Array),
        });
      }
    }
    for (const stream of STREAMS) {
      const later = new Set(recordsOf(second.messages, stream).map((r) => r.id));
      const missing = recordsOf(first.messages, stream).filter((r) => !later.has(r.id));
      expect({ stream, missing }).toEqual({ stream, missing: [] });
      expect(recordsOf(second.messages, stream).length).toBe(
        recordsOf(first.messages, stream).length,
      );
    }
  });

  /** `read` with the good config, a catalog of `files` and optionally a state file. */
  const read = (catalog: string, state?: string) =>
    runMain([
      'read',
      '--config',
      files['config.json'],
      '--catalog',
      files[catalog],
      ...(state ? ['--state', state] : []),
    ]);

  it('read: the state a full refresh ends with lets an incremental read resume from it', async () => {
    const full = await read('full.json');
    const state = writeFiles({ 'after-full.json': nextState(full.messages) })['after-full.json'];
    const incremental = await read('incremental.json', state);
    expect(incremental.code).toBe(0);
    for (const stream of STREAMS) {
      // Only the look-back (3 h by default) and runs still open are read again.
      expect(recordsOf(incremental.messages, stream).length).toBeLessThan(
        recordsOf(full.messages, stream).length,
      );
    }
  });

  it('read: a second incremental read starts from the first read state', async () => {
    const first = await read('incremental.json');
    const state = writeFiles({ 'state.json': nextState(first.messages) })['state.json'];
    const second = await read('incremental.json', state);
    expect(second.code).toBe(0);
    expectProtocolLines(second.lines);
    const lookbackMs = 3 * 3_600_000;
    for (const stream of STREAMS) {
      const cursor = nextState(first.messages).find(
        (s) => s.stream.stream_descriptor.name === stream,
      )?.stream.stream_state.cursor as string;
      const cursorField = stream === 'operations' ? 'inserted_at' : 'updated_at';
      const older = recordsOf(second.messages, stream).filter(
        (r) => Date.parse(r[cursorField] as string) < Date.parse(cursor) - lookbackMs,
      );
      expect({ stream, older: older.map((r) => r.id) }).toEqual({ stream, older: [] });
      expect(recordsOf(second.messages, stream).length).toBeLessThan(
        recordsOf(first.messages, stream).length,
      );
      expect(statesOf(second.messages, stream).length).toBeGreaterThan(0);
    }
  });

  it('read: a state from the future yields no records and a valid state', async () => {
    const future = STREAMS.map((name) => ({
      type: 'STREAM',
      stream: {
        stream_descriptor: { name },
        stream_state: { cursor: '2100-01-01T00:00:00.000Z', open_ids: [] },
      },
    }));
    const state = writeFiles({ 'future.json': future })['future.json'];
    const result = await runMain([
      'read',
      '--config',
      files['config.json'],
      '--catalog',
      files['incremental.json'],
      '--state',
      state,
    ]);
    expect(result.code).toBe(0);
    expectProtocolLines(result.lines);
    expect(recordsOf(result.messages)).toEqual([]);
    for (const stream of STREAMS) {
      const states = statesOf(result.messages, stream);
      expect(states.length).toBeGreaterThan(0);
      expect(states[states.length - 1].state.stream.stream_state.cursor).toBe(
        '2100-01-01T00:00:00.000Z',
      );
    }
  });

  it('read: an unknown stream in the catalog is a TRACE config error and a non-zero exit', async () => {
    const catalog = catalogFor('incremental', ['pipeline_runs', 'users']);
    expect(catalogProblems(catalog)).toEqual([]);
    const file = writeFiles({ 'unknown.json': catalog })['unknown.json'];
    const result = await runMain(['read', '--config', files['config.json'], '--catalog', file]);
    expect(result.code).not.toBe(0);
    expectProtocolLines(result.lines);
    expect(recordsOf(result.messages)).toEqual([]);
    const errors = errorsOf(result.messages);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ failure_type: 'config_error' });
    expect(errors[0].message).toMatch(
      /does not have: users\. Available: pipeline_runs, task_runs, operations/,
    );
  });

  it('read: PyAirbyte-style .txt config, catalog and [] state work', async () => {
    const result = await runMain([
      'read',
      '--config',
      files['config.txt'],
      '--catalog',
      files['catalog.txt'],
      '--state',
      files['state.txt'],
    ]);
    expect(result.code).toBe(0);
    expectProtocolLines(result.lines);
    expect(recordsOf(result.messages).length).toBeGreaterThan(0);
  });

  it('read: identical output with and without WORKER_JOB_ID (timestamps aside)', async () => {
    const args = [
      'read',
      '--config',
      files['config.json'],
      '--catalog',
      files['incremental.json'],
      '--state',
      files['empty-state.json'],
    ];
    const strip = (text: string) => text.replace(/"emitted_at":\d+/g, '"emitted_at":0');
    const withJob = await runMain(args, {
      env: { ...process.env, WORKER_JOB_ID: '42', WORKER_ATTEMPT: '1' },
    });
    const without = await runMain(args);
    expect(withJob.code).toBe(0);
    expect(strip(withJob.stdout)).toBe(strip(without.stdout));
  });
});
