import fs from 'fs';
import path from 'path';
import YAML from 'yaml';

import { SimulatorHandle, startSimulator } from 'orchestra-api-simulator';
import { Msg, nextState } from '../helpers/messages';
import { ensureBuilt, ROOT, runMain, writeFiles } from '../helpers/sync';

/**
 * The acceptance-test configs (acceptance-test-config.yml for CAT 3.x, the same tests in CAT
 * 0.11.5's format under integration_tests/cat-0.11.5/) at Airbyte's standard and in agreement with
 * what the connector does. CI runs both CATs for real (scripts/cat.sh); this catches a bent or
 * drifting config without them.
 */

type Tests = Record<string, { bypass_reason?: string; tests?: Array<Record<string, unknown>> }>;
interface AcceptanceConfig {
  connector_image: string;
  test_strictness_level: string;
  acceptance_tests: Tests;
}

const CAT3 = 'acceptance-test-config.yml';
const CAT0115 = 'integration_tests/cat-0.11.5/acceptance-test-config.yml';
const load = (file: string): AcceptanceConfig =>
  YAML.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as AcceptanceConfig;
const json = (file: string): unknown => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));
const SUITES = ['spec', 'connection', 'discovery', 'basic_read', 'full_refresh', 'incremental'];
const PATH_KEYS = ['spec_path', 'config_path', 'configured_catalog_path'];

/** The CAT 0.11.5 form of a CAT 3.x config: paths from its folder, the keys each version knows. */
function as0115(config: AcceptanceConfig, cursorPaths: object, thresholdDays: number): unknown {
  const rebase = (p: string) => path.relative(path.dirname(CAT0115), p);
  const copy = structuredClone(config);
  for (const suite of Object.values(copy.acceptance_tests)) {
    for (const test of suite.tests ?? []) {
      for (const key of PATH_KEYS) if (typeof test[key] === 'string') test[key] = rebase(test[key]);
      const records = test.expect_records as { path?: string } | undefined;
      if (records?.path) records.path = rebase(records.path);
      const future = test.future_state as { future_state_path?: string } | undefined;
      if (future?.future_state_path) future.future_state_path = rebase(future.future_state_path);
    }
  }
  for (const test of copy.acceptance_tests.basic_read.tests ?? [])
    delete test.validate_stream_statuses;
  for (const test of copy.acceptance_tests.incremental.tests ?? []) {
    test.cursor_paths = cursorPaths;
    test.threshold_days = thresholdDays;
  }
  return copy;
}

/** The value at a path inside an object, or undefined. */
function at(value: unknown, keys: Array<string | number>): unknown {
  return keys.reduce<unknown>(
    (v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
    value,
  );
}

describe('the acceptance-test configs', () => {
  const cat3 = load(CAT3);
  const cat0115 = load(CAT0115);
  const config = json('integration_tests/config.json') as Record<string, unknown>;
  const catalog = json('integration_tests/configured_catalog.json') as {
    streams: Array<{ stream: { name: string }; sync_mode: string; cursor_field: string[] }>;
  };
  const incremental = (c: AcceptanceConfig) => c.acceptance_tests.incremental.tests?.[0] ?? {};

  it('run every suite at test_strictness_level high, nothing bypassed', () => {
    for (const c of [cat3, cat0115]) {
      expect(c.test_strictness_level).toBe('high');
      expect(c.connector_image).toBe('source-orchestra:dev');
      for (const suite of SUITES) {
        expect({ suite, tests: (c.acceptance_tests[suite]?.tests ?? []).length > 0 }).toEqual({
          suite,
          tests: true,
        });
      }
      expect(JSON.stringify(c)).not.toMatch(/bypass_reason|skip_comprehensive|empty_streams/);
    }
  });

  it('CAT 3.x: a wrong key is status failed, stream statuses validated, expected records and a future state', () => {
    const t = cat3.acceptance_tests;
    expect(t.connection.tests?.map((x) => [x.config_path, x.status])).toEqual([
      ['integration_tests/config.json', 'succeed'],
      ['integration_tests/invalid_config.json', 'failed'],
    ]);
    const basic = t.basic_read.tests?.[0] ?? {};
    expect(basic.validate_stream_statuses).toBe(true);
    expect(basic.configured_catalog_path).toBeUndefined();
    expect(basic.expect_records).toEqual({
      path: 'integration_tests/expected_records.jsonl',
      exact_order: false,
    });
    expect(incremental(cat3).future_state).toEqual({
      future_state_path: 'integration_tests/abnormal_state.json',
    });
    // Every file named exists.
    const named = JSON.stringify(cat3).match(/"(integration_tests|resources)\/[^"]+"/g) ?? [];
    expect(named.length).toBeGreaterThan(5);
    for (const p of named) expect(fs.existsSync(path.join(ROOT, JSON.parse(p)))).toBe(true);
  });

  it('the invalid config differs from the good one by its key only', () => {
    const invalid = json('integration_tests/invalid_config.json') as Record<string, unknown>;
    expect({ ...invalid, api_key: config.api_key }).toEqual(config);
    expect(invalid.api_key).not.toBe(config.api_key);
  });

  it('CAT 0.11.5: the same tests, with cursor_paths where the state keeps its cursor and threshold_days covering the look-back', () => {
    const cursorPaths = Object.fromEntries(catalog.streams.map((s) => [s.stream.name, ['cursor']]));
    // An incremental read re-reads lookback_hours before the cursor: records up to that much
    // older than the cursor are expected, in whole days as CAT counts them.
    const thresholdDays = Math.ceil((config.lookback_hours as number) / 24);
    expect(thresholdDays).toBe(1);
    expect(cat0115).toEqual(as0115(cat3, cursorPaths, thresholdDays));
    // CAT 0.11.5 reads metadata.yaml beside its config: the committed one, through a link.
    const beside = path.join(ROOT, path.dirname(CAT0115), 'metadata.yaml');
    expect(fs.realpathSync(beside)).toBe(path.join(ROOT, 'metadata.yaml'));
  });

  describe('against the state bin/main writes', () => {
    let sim: SimulatorHandle;
    let states: Msg[];

    beforeAll(async () => {
      ensureBuilt();
      sim = await startSimulator({ seed: 42, clock: 'manual', start: '2026-03-02T12:00:00Z' });
      const files = writeFiles({
        'config.json': { ...config, api_url: sim.baseUrl },
        'catalog.json': catalog,
      });
      const result = await runMain([
        'read',
        '--config',
        files['config.json'],
        '--catalog',
        files['catalog.json'],
      ]);
      expect(result.code).toBe(0);
      states = nextState(result.messages);
    });
    afterAll(() => sim.close());

    it('cursor_paths lead to each stream cursor in a real state', () => {
      const paths = incremental(cat0115).cursor_paths as Record<string, string[]>;
      expect(Object.keys(paths).sort()).toEqual(catalog.streams.map((s) => s.stream.name).sort());
      for (const s of states) {
        const name = s.stream.stream_descriptor.name as string;
        const cursor = at(s.stream.stream_state, paths[name]);
        expect({ name, cursor }).toEqual({
          name,
          cursor: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        });
      }
    });

    it('the future state has the shape of a real state, every stream, cursors in the far future', () => {
      const future = json('integration_tests/abnormal_state.json') as Msg[];
      const byName = new Map(states.map((s) => [s.stream.stream_descriptor.name, s]));
      expect(future.map((s) => s.stream.stream_descriptor.name).sort()).toEqual(
        [...byName.keys()].sort(),
      );
      for (const f of future) {
        const real = byName.get(f.stream.stream_descriptor.name) as Msg;
        expect(f.type).toBe(real.type);
        expect(Object.keys(f.stream.stream_state).sort()).toEqual(
          Object.keys(real.stream.stream_state).sort(),
        );
        expect(f.stream.stream_state.cursor_field).toEqual(real.stream.stream_state.cursor_field);
        expect(f.stream.stream_state.cursor.length).toBe(real.stream.stream_state.cursor.length);
        expect(Date.parse(f.stream.stream_state.cursor)).toBeGreaterThan(Date.parse('2999-01-01'));
      }
    });
  });
});
