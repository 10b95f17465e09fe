/**
 * A logging pass-through proxy between a connector and the simulator: it records every request the
 * connector made (endpoint, window, page, id filter) and every status it got, so API economy and
 * 429s are measured from what crossed the wire, the same way for any client. Used for the economy and
 * rate-limit cases only: at throughput rates it would take CPU from the process being measured.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';

export interface LoggedRequest {
  atMs: number;
  endpoint: string;
  timeFrom: string | null;
  timeTo: string | null;
  page: number;
  pageSize: number | null;
  /** True when the request re-fetched runs by id (pipeline_run_ids / task_run_ids). */
  byId: boolean;
  status: number;
  resultCount: number | null;
  /** The envelope's `total`: how many records match the request's filters. */
  total: number | null;
}

export interface LoggingProxy {
  baseUrl: string;
  log: LoggedRequest[];
  close(): Promise<void>;
}

const ID_FILTERS = ['pipeline_run_ids', 'task_run_ids'];

export async function startProxy(targetBaseUrl: string): Promise<LoggingProxy> {
  const target = new URL(targetBaseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const log: LoggedRequest[] = [];
  const started = performance.now();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', target.origin);
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: url.pathname + url.search,
        headers: { ...req.headers, host: target.host },
        agent,
      },
      (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (part: Buffer) => parts.push(part));
        answer.on('end', () => {
          const body = Buffer.concat(parts);
          log.push(describe(url, answer.statusCode ?? 0, body, performance.now() - started));
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(body);
        });
      },
    );
    upstream.on('error', (error) => {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: `bench proxy: ${error.message}` }));
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${target.pathname}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function describe(url: URL, status: number, body: Buffer, atMs: number): LoggedRequest {
  const q = url.searchParams;
  let resultCount: number | null = null;
  let total: number | null = null;
  if (status === 200) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { results?: unknown[]; total?: unknown };
      resultCount = Array.isArray(parsed.results) ? parsed.results.length : null;
      total = typeof parsed.total === 'number' ? parsed.total : null;
    } catch {
      resultCount = null;
    }
  }
  return {
    atMs,
    endpoint: url.pathname.split('/').pop() ?? url.pathname,
    timeFrom: q.get('time_from'),
    timeTo: q.get('time_to'),
    page: Number(q.get('page') ?? '1'),
    pageSize: q.has('page_size') ? Number(q.get('page_size')) : null,
    byId: ID_FILTERS.some((name) => q.has(name)),
    status,
    resultCount,
    total,
  };
}

export interface EconomySummary {
  requests: number;
  listRequests: number;
  byIdRequests: number;
  status429: number;
  otherErrors: number;
  /** Distinct (endpoint, time_from, time_to) among list requests (not by id). */
  windows: number;
  recordsServed: number;
  /** Σ over windows of max(1, ceil(total / page size)): the fewest requests for these windows. */
  pagesNeededForWindows: number;
}

export function summarise(log: LoggedRequest[]): EconomySummary {
  const windows = new Map<string, number>();
  let recordsServed = 0;
  for (const entry of log) {
    if (entry.status === 200 && !entry.byId) {
      const key = `${entry.endpoint} ${entry.timeFrom} ${entry.timeTo}`;
      windows.set(key, Math.max(windows.get(key) ?? 0, entry.total ?? 0));
    }
    recordsServed += entry.resultCount ?? 0;
  }
  let pagesNeededForWindows = 0;
  for (const total of windows.values())
    pagesNeededForWindows += Math.max(1, Math.ceil(total / 100));
  return {
    requests: log.length,
    listRequests: log.filter((e) => !e.byId).length,
    byIdRequests: log.filter((e) => e.byId).length,
    status429: log.filter((e) => e.status === 429).length,
    otherErrors: log.filter((e) => e.status !== 429 && e.status >= 400).length,
    windows: windows.size,
    recordsServed,
    pagesNeededForWindows,
  };
}
