import http from 'http';
import { AddressInfo } from 'net';

import { SimulatorHandle, startSimulator } from 'orchestra-api-simulator';
import { errorsOf, recordsOf } from '../helpers/messages';
import { protocolProblems } from '../helpers/protocol';
import { catalogFor, ensureBuilt, MainResult, runMain, writeFiles } from '../helpers/sync';

/**
 * Bad input and failures, through the real bin/main: one clear message; for `read`, a TRACE error
 * of the right failure type and a non-zero exit; for `check`, a CONNECTION_STATUS FAILED and exit 0
 * when the user must act, a TRACE and a non-zero exit otherwise; and the API key (a canary here)
 * never printed on any of these paths.
 */

const CANARY = 'canary-key-7d3f9a61c2';
const START = '2026-03-10T12:00:00Z';

function expectFailure(result: MainResult, failureType: string, message: RegExp): void {
  expect(result.lines.flatMap(protocolProblems)).toEqual([]);
  expect(result.code).not.toBe(0);
  const errors = errorsOf(result.messages);
  expect(errors.length).toBeGreaterThanOrEqual(1);
  expect(errors[0]).toMatchObject({ failure_type: failureType });
  expect(errors[0].message).toMatch(message);
}

/** Runs the tasks with at most 4 subprocesses at a time (2 cores). */
async function inParallel<T, R>(items: T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return results;
}

function expectNoCanary(result: MainResult): void {
  expect(result.stdout.includes(CANARY)).toBe(false);
  expect(result.stderr.includes(CANARY)).toBe(false);
}

describe('bad input and failures through bin/main', () => {
  let sim: SimulatorHandle;
  let html: http.Server;
  let htmlUrl: string;
  const catalog = writeFiles({ 'catalog.json': catalogFor('incremental') })['catalog.json'];
  const base = () => ({
    api_key: CANARY,
    api_url: sim.baseUrl,
    requests_per_minute: 100000,
    retry_budget_seconds: 2,
    request_timeout_seconds: 2,
  });
  const read = (config: object, extra: string[] = []) =>
    runMain(
      [
        'read',
        '--config',
        writeFiles({ 'c.json': config })['c.json'],
        '--catalog',
        catalog,
        ...extra,
      ],
      {
        env: { ...process.env, WORKER_JOB_ID: undefined, LOG_LEVEL: 'debug' },
      },
    );
  const check = (config: object) =>
    runMain(['check', '--config', writeFiles({ 'c.json': config })['c.json']], {
      env: { ...process.env, WORKER_JOB_ID: undefined, LOG_LEVEL: 'debug' },
    });

  beforeAll(async () => {
    ensureBuilt();
    sim = await startSimulator({
      seed: 4,
      clock: 'manual',
      start: START,
      records: 600,
      apiKeys: ['simulator-key', CANARY],
    });
    html = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>Please sign in</body></html>');
    });
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
    htmlUrl = `http://127.0.0.1:${(html.address() as AddressInfo).port}/api`;
  });
  /** Back to a calm simulator with no pending forced faults (the control API clears them). */
  async function clearFaults(): Promise<void> {
    sim.configure({ scenario: 'calm', nonEnterprise: false, multiAccount: false });
    await fetch(`${sim.rootUrl}/_sim/config`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ clearInjections: true }),
    });
  }
  afterEach(clearFaults);
  afterAll(async () => {
    html.close();
    await sim.close();
  });

  const invalidFields: Array<[string, unknown, RegExp]> = [
    ['account_id', 'acme', /`account_id` must be a UUID/],
    ['start_date', '2026-13-45', /`start_date` must be an ISO 8601 date-time/],
    ['pipeline_ids', 'p1,p2', /`pipeline_ids` must be a list/],
    ['environments', [1], /`environments` must contain only text values/],
    ['include_superseded', 'yes', /`include_superseded` must be true or false/],
    ['lookback_hours', 1000, /`lookback_hours` must be between 0 and 168/],
    ['window_hours', 0, /`window_hours` must be between 1 and 168/],
    ['page_size', 500, /`page_size` must be between 1 and 100/],
    ['requests_per_minute', -5, /`requests_per_minute` must be between 1/],
    ['pages_in_flight', 0, /`pages_in_flight` must be between 1 and 16/],
    ['request_timeout_seconds', 'slow', /`request_timeout_seconds` must be a whole number/],
    ['retry_budget_seconds', 99999, /`retry_budget_seconds` must be between 0 and 3600/],
    ['api_url', 'ftp://orchestra', /`api_url` must be an http\(s\) URL/],
  ];

  it('every invalid config field: TRACE config_error naming the field, exit 1, key not printed', async () => {
    const results = await inParallel(invalidFields, ([field, value]) =>
      read({ ...base(), [field]: value }),
    );
    invalidFields.forEach(([field, , message], i) => {
      const result = results[i];
      expect({ field, exit: result.code }).toEqual({ field, exit: 1 });
      expectFailure(result, 'config_error', message);
      expect(recordsOf(result.messages)).toEqual([]);
      expectNoCanary(result);
    });
  });

  it('a missing api_key is a config error that says what to set', async () => {
    const result = await read({ api_url: sim.baseUrl });
    expectFailure(result, 'config_error', /`api_key` is required/);
  });

  it.each([
    ['not JSON', '{"pipeline_runs": {"cursor": '],
    ['a JSON number', '42'],
    ['a cursor that is not a date', JSON.stringify({ pipeline_runs: { cursor: 'last tuesday' } })],
  ])(
    'a corrupt state file (%s) is a config error, not a silent full resync',
    async (_name, text) => {
      const state = writeFiles({ 'state.txt': text })['state.txt'];
      const result = await read(base(), ['--state', state]);
      expectFailure(result, 'config_error', /state/i);
      expect(recordsOf(result.messages)).toEqual([]);
      expectNoCanary(result);
    },
  );

  it('a wrong key: read fails with a config error, check answers one FAILED status and exits 0', async () => {
    const config = { ...base(), api_key: `${CANARY}-wrong` };
    const readResult = await read(config);
    expectFailure(readResult, 'config_error', /rejected the API key \(401\)/);
    const checkResult = await check(config);
    expect(checkResult.code).toBe(0);
    expect(checkResult.lines.flatMap(protocolProblems)).toEqual([]);
    expect(checkResult.messages.filter((m) => m.type !== 'LOG')).toMatchObject([
      {
        type: 'CONNECTION_STATUS',
        connectionStatus: { status: 'FAILED', message: expect.stringMatching(/401.*`api_key`/) },
      },
    ]);
    for (const r of [readResult, checkResult]) expectNoCanary(r);
  });

  it('an API that answers HTML: read and check both say api_url is wrong', async () => {
    const config = { ...base(), api_url: htmlUrl };
    const readResult = await read(config);
    expectFailure(readResult, 'config_error', /HTML page instead of Orchestra's JSON.*`api_url`/);
    const checkResult = await check(config);
    const status = checkResult.messages.find((m) => m.type === 'CONNECTION_STATUS');
    expect(status?.connectionStatus.message).toMatch(/HTML page/);
    expect(checkResult.code).toBe(0);
    for (const r of [readResult, checkResult]) expectNoCanary(r);
  });

  /** A fresh simulator for one case, so cases can run side by side. */
  async function withSim<R>(
    arrange: (s: SimulatorHandle) => void,
    body: (s: SimulatorHandle) => Promise<R>,
  ): Promise<R> {
    const own = await startSimulator({
      seed: 4,
      clock: 'manual',
      start: START,
      records: 200,
      apiKeys: ['simulator-key', CANARY],
    });
    try {
      arrange(own);
      return await body(own);
    } finally {
      await own.close();
    }
  }

  const configFor = (s: SimulatorHandle, override: object = {}) => ({
    ...base(),
    api_url: s.baseUrl,
    retry_budget_seconds: 1,
    request_timeout_seconds: 1,
    ...override,
  });

  it('check: a problem the user must fix is one CONNECTION_STATUS FAILED with its own message and exit 0; an API failure is one TRACE and a non-zero exit', async () => {
    // [name, arrange, config, failure type, message]: config_error cases answer FAILED, exit 0;
    // the others are not the user's to fix, so the check itself fails (TRACE, non-zero exit).
    const cases: Array<
      [string, (s: SimulatorHandle) => void, (s: SimulatorHandle) => object, string, RegExp]
    > = [
      [
        '403',
        (s) => s.configure({ nonEnterprise: true }),
        (s) => configFor(s),
        'config_error',
        /403.*enterprise/,
      ],
      [
        '404',
        () => undefined,
        (s) => configFor(s, { api_url: `${s.rootUrl}/nope` }),
        'config_error',
        /404 Not Found.*`api_url`/,
      ],
      [
        'dns',
        () => undefined,
        (s) => configFor(s, { api_url: 'http://orchestra.invalid/api' }),
        'config_error',
        /Cannot resolve the host/,
      ],
      [
        'refused',
        () => undefined,
        (s) => configFor(s, { api_url: 'http://127.0.0.1:1/api' }),
        'config_error',
        /connection refused/,
      ],
      [
        'invalid',
        () => undefined,
        (s) => configFor(s, { page_size: 0 }),
        'config_error',
        /`page_size` must be between 1 and 100/,
      ],
      [
        '429',
        (s) => s.inject([{ fault: 'rateLimited', count: 5 }]),
        (s) => configFor(s),
        'transient_error',
        /rate-limiting.*429/,
      ],
      [
        '5xx',
        (s) => s.inject([{ fault: 'serverError', count: 5, status: 503 }]),
        (s) => configFor(s),
        'transient_error',
        /HTTP 503.*Orchestra's side/,
      ],
      [
        'timeout',
        (s) => {
          s.configure({ hangMs: 10000 });
          s.inject([{ fault: 'hang', count: 5 }]);
        },
        (s) => configFor(s),
        'transient_error',
        /did not answer .* within 1s/,
      ],
    ];
    const results = await inParallel(cases, ([, arrange, config]) =>
      withSim(arrange, async (s) => {
        const started = Date.now();
        const result = await check(config(s));
        return { result, ms: Date.now() - started };
      }),
    );
    cases.forEach(([name, , , failureType, message], i) => {
      const { result, ms } = results[i];
      expect(result.lines.flatMap(protocolProblems)).toEqual([]);
      const statuses = result.messages.filter((m) => m.type === 'CONNECTION_STATUS');
      const traces = result.messages.filter((m) => m.type === 'TRACE');
      if (failureType === 'config_error') {
        expect({
          name,
          statuses: statuses.length,
          traces: traces.length,
          exit: result.code,
        }).toEqual({ name, statuses: 1, traces: 0, exit: 0 });
        expect({ name, status: statuses[0].connectionStatus }).toEqual({
          name,
          status: { status: 'FAILED', message: expect.stringMatching(message) },
        });
      } else {
        expect({
          name,
          statuses: statuses.length,
          traces: traces.length,
          exit: result.code,
        }).toEqual({ name, statuses: 0, traces: 1, exit: 1 });
        expect({ name, error: traces[0].trace.error }).toEqual({
          name,
          error: expect.objectContaining({
            failure_type: failureType,
            message: expect.stringMatching(message),
          }),
        });
      }
      // check fails fast: no long retry loops.
      expect({ name, fast: ms < 10000 }).toEqual({ name, fast: true });
      expectNoCanary(result);
    });
  });

  it('the key stays out of every failure path of read: 403, 404, 5xx, 429, timeouts, truncation, resets, DNS', async () => {
    const cases: Array<[string, (s: SimulatorHandle) => void, (s: SimulatorHandle) => object]> = [
      ['403', (s) => s.configure({ nonEnterprise: true }), (s) => configFor(s)],
      ['404', () => undefined, (s) => configFor(s, { api_url: `${s.rootUrl}/nope` })],
      [
        '5xx',
        (s) => s.inject([{ fault: 'serverError', count: 50, status: 500 }]),
        (s) => configFor(s),
      ],
      ['429', (s) => s.inject([{ fault: 'rateLimited', count: 50 }]), (s) => configFor(s)],
      [
        'timeout',
        (s) => {
          s.configure({ hangMs: 10000 });
          s.inject([{ fault: 'hang', count: 50 }]);
        },
        (s) => configFor(s),
      ],
      ['truncated', (s) => s.inject([{ fault: 'truncated', count: 50 }]), (s) => configFor(s)],
      ['reset', (s) => s.inject([{ fault: 'reset', count: 50 }]), (s) => configFor(s)],
      ['dns', () => undefined, (s) => configFor(s, { api_url: 'http://orchestra.invalid/api' })],
    ];
    const results = await inParallel(cases, ([, arrange, config]) =>
      withSim(arrange, (s) => read(config(s))),
    );
    // Retries exhausted on the API's or the network's failures: transient (the platform retries
    // the attempt); the user's access or URL: config.
    const expectedTypes: Record<string, string> = {
      '403': 'config_error',
      '404': 'config_error',
      dns: 'config_error',
      '5xx': 'transient_error',
      '429': 'transient_error',
      timeout: 'transient_error',
      truncated: 'transient_error',
      reset: 'transient_error',
    };
    cases.forEach(([name], i) => {
      const result = results[i];
      expect(result.lines.flatMap(protocolProblems)).toEqual([]);
      const errors = errorsOf(result.messages);
      expect({ name, exit: result.code, types: errors.map((e) => e.failure_type) }).toEqual({
        name,
        exit: 1,
        types: [expectedTypes[name]],
      });
      expectNoCanary(result);
    });
  });
});
