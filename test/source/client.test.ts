import http from 'http';
import { AddressInfo } from 'net';

import { ClientOptions, Log, OrchestraClient } from '../../src/client/client';
import { ServerClock } from '../../src/clock';
import { ConfigError, TransientError } from '../../src/errors';
import { SimulatorHandle, startSimulator } from 'orchestra-api-simulator';

const START = '2026-03-10T12:00:00Z';
const PARAMS = {
  page: 1,
  page_size: 100,
  time_from: '2026-03-09T12:00:00.000Z',
  time_to: '2026-03-10T11:59:00.000Z',
};
const CTX = { path: '/pipeline_runs', page: 1 };

class MemoryLog implements Log {
  lines: string[] = [];
  debug(m: string): void {
    this.lines.push(m);
  }
  info(m: string): void {
    this.lines.push(m);
  }
  warn(m: string): void {
    this.lines.push(m);
  }
  error(m: string): void {
    this.lines.push(m);
  }
}

interface Harness {
  client: OrchestraClient;
  sleeps: number[];
  log: MemoryLog;
  clock: ServerClock;
}

function clientFor(baseUrl: string, overrides: Partial<ClientOptions> = {}): Harness {
  const sleeps: number[] = [];
  const log = new MemoryLog();
  const clock = new ServerClock();
  const client = new OrchestraClient({
    baseUrl,
    apiKey: 'simulator-key',
    timeoutMs: 5000,
    maxSockets: 4,
    requestsPerMinute: 100000,
    retryBudgetMs: 600_000,
    clock,
    log,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  return { client, sleeps, log, clock };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('the request succeeded but was expected to fail');
}

describe('HTTP client against the simulator', () => {
  let sim: SimulatorHandle;
  const opened: OrchestraClient[] = [];
  const harness = (overrides: Partial<ClientOptions> = {}, base?: string): Harness => {
    const h = clientFor(base ?? sim.baseUrl, overrides);
    opened.push(h.client);
    return h;
  };

  beforeAll(async () => {
    sim = await startSimulator({ seed: 7, clock: 'manual', start: START, records: 800 });
  });
  afterEach(() => {
    sim.configure({ scenario: 'calm', nonEnterprise: false, multiAccount: false });
    sim.resetStats();
    for (const c of opened.splice(0)) c.close();
  });
  afterAll(() => sim.close());

  it('takes "now" from the server Date header, not the local clock', async () => {
    const { client, clock } = harness();
    expect(clock.synced).toBe(false);
    await client.getPage('/pipeline_runs', PARAMS, CTX);
    expect(Math.abs(clock.now().getTime() - Date.parse(START))).toBeLessThan(5000);
  });

  it('retries 5xx answers (JSON or HTML bodies) with growing backoff, then returns the page', async () => {
    const { client, sleeps } = harness();
    sim.inject([
      { fault: 'serverError', count: 1, status: 503 },
      { fault: 'serverError', count: 1, status: 502 },
    ]);
    const page = await client.getPage('/pipeline_runs', PARAMS, CTX);
    expect(page.results.length).toBeGreaterThan(0);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeGreaterThanOrEqual(1000);
    expect(client.stats).toMatchObject({ requests: 3, retries: 2 });
  });

  it('honours Retry-After in seconds on 429', async () => {
    sim.configure({ retryAfter: 'seconds' });
    const { client, sleeps } = harness();
    sim.inject([{ fault: 'rateLimited', count: 1 }]);
    await client.getPage('/pipeline_runs', PARAMS, CTX);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(1000);
    expect(sleeps[0]).toBeLessThan(4000);
  });

  it('honours Retry-After as an HTTP date, measured on the server clock', async () => {
    sim.configure({ retryAfter: 'date' });
    const { client, sleeps } = harness();
    sim.inject([{ fault: 'rateLimited', count: 1 }]);
    await client.getPage('/pipeline_runs', PARAMS, CTX);
    // The simulated clock is weeks away from the local one: only the server's Date makes sense.
    expect(sleeps[0]).toBeGreaterThanOrEqual(1000);
    expect(sleeps[0]).toBeLessThan(5000);
  });

  it('retries truncated bodies and dropped connections', async () => {
    const { client } = harness();
    sim.inject([
      { fault: 'truncated', count: 1 },
      { fault: 'reset', count: 1 },
    ]);
    const page = await client.getPage('/pipeline_runs', PARAMS, CTX);
    expect(page.results.length).toBeGreaterThan(0);
    expect(client.stats.retries).toBe(2);
  });

  it('times out a request that never answers and retries it', async () => {
    sim.configure({ hangMs: 10_000 });
    const { client } = harness({ timeoutMs: 300 });
    sim.inject([{ fault: 'hang', count: 1 }]);
    const started = Date.now();
    await client.getPage('/pipeline_runs', PARAMS, CTX);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(client.stats.retries).toBe(1);
  });

  it('reports a body that stays malformed with the endpoint and page, after bounded retries', async () => {
    const { client } = harness({ retry: { maxAttempts: 3 } });
    sim.inject([{ fault: 'truncated', count: 3 }]);
    const err = await failure(client.getPage('/pipeline_runs', PARAMS, { ...CTX, page: 4 }));
    // Retried and still broken: transient, the platform retries the attempt later.
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(/malformed response to GET \/pipeline_runs page 4 \(3 attempts\)/);
  });

  it('stops retrying when the sync-wide retry budget is spent', async () => {
    const { client } = harness({ retryBudgetMs: 100 });
    sim.inject([{ fault: 'serverError', count: 5, status: 500 }]);
    const err = await failure(client.getPage('/pipeline_runs', PARAMS, CTX));
    expect(err.message).toMatch(/HTTP 500 on GET \/pipeline_runs page 1/);
    expect(client.stats.requests).toBe(1);
  });

  it('does not retry a wrong key (401) and says how to fix it', async () => {
    const { client } = harness({ apiKey: 'wrong-key-canary' });
    const err = await failure(client.getPage('/pipeline_runs', PARAMS, CTX));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/rejected the API key \(401\).*update `api_key`/);
    expect(err.message).not.toContain('wrong-key-canary');
    expect(client.stats.requests).toBe(1);
  });

  it('explains 403 (not enterprise or IP not allowed)', async () => {
    sim.configure({ nonEnterprise: true });
    const { client } = harness();
    const err = await failure(client.getPage('/pipeline_runs', PARAMS, CTX));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/refused access \(403\).*enterprise.*IP allow-list/);
  });

  it('explains 404 as a wrong api_url', async () => {
    const { client } = harness({}, `${sim.rootUrl}/api/wrong`);
    const err = await failure(client.getPage('/pipeline_runs', PARAMS, CTX));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/404 Not Found .*check `api_url`/);
  });

  it('explains 422 parameter errors with the API detail', async () => {
    const { client } = harness();
    const err = await failure(client.getPage('/pipeline_runs', { ...PARAMS, page_size: 200 }, CTX));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/\(422\).*page_size/);
  });

  it('sends account_id as X-Orchestra-Account-Id, which multi-account tokens need', async () => {
    sim.configure({ multiAccount: true });
    const without = await failure(harness().client.getPage('/pipeline_runs', PARAMS, CTX));
    expect(without.message).toMatch(/\(400\).*set `account_id`/);
    const page = await harness({ accountId: sim.accountId }).client.getPage(
      '/pipeline_runs',
      PARAMS,
      CTX,
    );
    expect(page.total).toBeGreaterThan(0);
  });

  it('reports DNS and refused connections as api_url problems', async () => {
    const dns = await failure(
      harness({ retry: { maxAttempts: 1 } }, 'http://no-such-host.invalid/api').client.getPage(
        '/pipeline_runs',
        PARAMS,
        CTX,
      ),
    );
    expect(dns.message).toMatch(/Cannot resolve the host no-such-host.invalid/);
    const refused = await failure(
      harness({ retry: { maxAttempts: 1 } }, 'http://127.0.0.1:1/api').client.getPage(
        '/pipeline_runs',
        PARAMS,
        CTX,
      ),
    );
    expect(refused.message).toMatch(/Cannot connect to 127.0.0.1:1 \(connection refused\)/);
  });
});

describe('HTTP client against a server that answers HTML', () => {
  it('says api_url points at a web page, not the API', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><html><body>Sign in</body></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const { client } = clientFor(`http://127.0.0.1:${port}/api`, { retry: { maxAttempts: 2 } });
    try {
      const err = await failure(client.getPage('/pipeline_runs', PARAMS, CTX));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(
        /answered GET \/pipeline_runs page 1 with an HTML page.*`api_url`/,
      );
    } finally {
      client.close();
      server.close();
    }
  });
});
