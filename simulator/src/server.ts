/**
 * The HTTP front: routing, auth, rate limit, injected faults, and the list endpoints' envelope.
 * Node's http module directly (no framework): the simulator must never be a benchmark's bottleneck.
 */
import http from 'node:http';
import { StreamName } from './constants';
import { ByteWriter } from './bytes';
import { Engine } from './query-engine';
import { FaultDecision, FaultInjector, RateLimiter, retryAfterHeader } from './faults';
import { Observer } from './observe';
import { Endpoint, SimulatorOptions } from './options';
import { ApiError, ListQuery, ParseContext, isApiError, parseListQuery } from './query';
import { Serializer } from './serialize';
import { SimClock } from './sim-clock';
import { World } from './world';

export const PUBLIC_PREFIX = '/api/engine/public';

const HTML_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
const HTML_504 =
  '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

export interface SimState {
  opts: SimulatorOptions;
  world: World;
  engine: Engine;
  serializer: Serializer;
  /** Page buffers, reused once the response has been handed to the socket (fresh large buffers cost page faults). */
  writers: ByteWriter[];
  faults: FaultInjector;
  limiter: RateLimiter;
  observer: Observer;
  clock: SimClock;
  parseCtx: Omit<ParseContext, 'now' | 'wideWindow'>;
  /** Persistent "rows inserted ahead of the reader" offsets per query (the `shift` fault). */
  shifts: Map<string, number>;
  control: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void>;
}

/** Simulated now used to evaluate a request: on the wall clock, whole seconds (like the Date header). */
export function evalNow(s: SimState): number {
  const now = s.clock.nowUs();
  s.world.ensure(now);
  return s.clock.mode === 'wall' ? Math.floor(now / 1e6) * 1e6 : now;
}

function sendJson(
  s: SimState,
  res: http.ServerResponse,
  status: number,
  body: string | Buffer,
  extra: Record<string, string> = {},
): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': buf.length,
    Date: s.clock.now().toUTCString(),
    ...extra,
  });
  res.end(buf);
}

function routeOf(
  pathname: string,
): { endpoint: Endpoint; stream: StreamName; runId?: string } | undefined {
  const rest = pathname.slice(PUBLIC_PREFIX.length);
  if (rest === '/pipeline_runs') return { endpoint: 'pipeline_runs', stream: 'pipeline_runs' };
  if (rest === '/task_runs') return { endpoint: 'task_runs', stream: 'task_runs' };
  if (rest === '/operations') return { endpoint: 'operations', stream: 'operations' };
  const m = /^\/pipeline_runs\/([^/]+)\/task_runs$/.exec(rest);
  if (m)
    return {
      endpoint: 'pipeline_run_task_runs',
      stream: 'task_runs',
      runId: decodeURIComponent(m[1]),
    };
  return undefined;
}

export function createHandler(s: SimState): http.RequestListener {
  return (req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/_sim/')) {
      s.control(req, res, url).catch((err: unknown) => {
        if (!res.headersSent) sendJson(s, res, 500, JSON.stringify({ detail: String(err) }));
      });
      return;
    }
    const route = url.pathname.startsWith(PUBLIC_PREFIX) ? routeOf(url.pathname) : undefined;
    const endpoint =
      route?.endpoint ?? (url.pathname.startsWith(PUBLIC_PREFIX) ? 'other' : 'outside');
    let fault: string | undefined;
    const finish = (status: number): void => {
      s.observer.record({
        at: s.clock.now().toISOString(),
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        endpoint,
        status,
        fault,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      });
      if (s.opts.verbose) {
        process.stderr.write(
          `${req.method} ${url.pathname}${url.search} -> ${status}${fault ? ' (' + fault + ')' : ''}\n`,
        );
      }
    };
    const reply = (status: number, body: string, extra: Record<string, string> = {}): void => {
      sendJson(s, res, status, body, extra);
      finish(status);
    };
    const detail = (status: number, msg: string, extra: Record<string, string> = {}): void =>
      reply(status, JSON.stringify({ detail: msg }), extra);

    // Routing comes before auth, as in FastAPI: unknown paths are 404 and other methods 405 for anyone.
    if (!route) {
      const bare = url.pathname.replace(/\/+$/, '');
      if (bare !== url.pathname && bare.startsWith(PUBLIC_PREFIX) && routeOf(bare)) {
        // FastAPI's redirect_slashes.
        res.writeHead(307, {
          Location: bare + url.search,
          'Content-Length': 0,
          Date: s.clock.now().toUTCString(),
        });
        res.end();
        return finish(307);
      }
      return detail(404, 'Not Found');
    }
    if (req.method !== 'GET') return detail(405, 'Method Not Allowed', { Allow: 'GET' });
    const auth = req.headers.authorization;
    const key = auth && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    if (!key || !s.opts.apiKeys.includes(key)) {
      return detail(401, key ? 'Invalid API key' : 'Not authenticated', {
        'WWW-Authenticate': 'Bearer',
      });
    }
    if (s.opts.nonEnterprise) {
      return detail(
        403,
        'The Orchestra API is only available to Enterprise workspaces. Contact support to upgrade.',
      );
    }
    if (s.opts.multiAccount && !req.headers['x-orchestra-account-id']) {
      return detail(
        400,
        'This API key has access to several accounts: set the X-Orchestra-Account-Id header to choose one.',
      );
    }
    const waitMs = s.limiter.check(key, Date.now());
    if (waitMs > 0) {
      fault = 'rateLimit';
      const ra = retryAfterHeader(
        s.opts.retryAfter,
        waitMs,
        s.clock.now().getTime(),
        (s.observer.counters.total * 0.618) % 1,
      );
      return detail(
        429,
        'Too many requests: wait before sending more requests.',
        ra ? { 'Retry-After': ra } : {},
      );
    }

    const decision = s.faults.decide(route.endpoint);
    const respond = (): void =>
      serveList(s, req, res, url, route, decision, (st, f) => {
        fault = f;
        finish(st);
      });
    if (decision.slow) {
      fault = 'slow';
      setTimeout(respond, s.opts.slowMs);
    } else {
      respond();
    }
  };
}

function serveList(
  s: SimState,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  route: { endpoint: Endpoint; stream: StreamName; runId?: string },
  d: FaultDecision,
  finish: (status: number, fault?: string) => void,
): void {
  if (res.destroyed) return finish(0, 'client-gone');
  const slow = d.slow ? 'slow' : undefined;
  const reply = (
    status: number,
    body: string | Buffer,
    extra: Record<string, string> = {},
    fault = slow,
  ): void => {
    sendJson(s, res, status, body, extra);
    finish(status, fault);
  };
  switch (d.fault) {
    case 'hang': {
      // Never answer; drop the connection after hangMs (a client timeout should fire first).
      const timer = setTimeout(() => req.socket.destroy(), s.opts.hangMs);
      req.socket.once('close', () => clearTimeout(timer));
      return finish(0, 'hang');
    }
    case 'serverError': {
      const status = d.status ?? [500, 502, 503, 504][Math.floor(d.u * 4)];
      if (status === 502 || status === 504) {
        const html = status === 502 ? HTML_502 : HTML_504;
        res.writeHead(status, {
          'Content-Type': 'text/html',
          'Content-Length': Buffer.byteLength(html),
          Date: s.clock.now().toUTCString(),
        });
        res.end(html);
        return finish(status, 'serverError');
      }
      return reply(
        status,
        JSON.stringify({
          detail: status === 503 ? 'Service Unavailable' : 'Internal Server Error',
        }),
        {},
        'serverError',
      );
    }
    case 'rateLimited': {
      const ra = retryAfterHeader(
        s.opts.retryAfter,
        1000 + d.u * 1000,
        s.clock.now().getTime(),
        d.u,
      );
      return reply(
        429,
        JSON.stringify({ detail: 'Too many requests: wait before sending more requests.' }),
        ra ? { 'Retry-After': ra } : {},
        'rateLimited',
      );
    }
    default:
      break;
  }
  const now = evalNow(s);
  const q = parseListQuery(
    route.stream,
    url.searchParams,
    { ...s.parseCtx, now, wideWindow: s.opts.wideWindow },
    route.runId,
  );
  if (isApiError(q)) return replyError(q, reply);
  const w = s.writers.pop() ?? new ByteWriter(1 << 18);
  res.once('close', () => {
    if (s.writers.length < 64) s.writers.push(w);
  });
  const body = buildPage(s, w, q, now, d);
  if (d.fault === 'truncated') {
    const cut = body.subarray(0, Math.max(1, Math.floor(body.length * (0.3 + 0.6 * d.u))));
    return reply(200, cut, {}, 'truncated');
  }
  if (d.fault === 'reset') {
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': body.length,
      Date: s.clock.now().toUTCString(),
    });
    res.write(body.subarray(0, Math.max(1, Math.floor(body.length * d.u * 0.8))));
    setImmediate(() => res.socket?.destroy());
    return finish(200, 'reset');
  }
  const fault =
    d.fault === 'emptyPage' || d.fault === 'duplicate' || d.fault === 'shift' ? d.fault : slow;
  reply(200, body, {}, fault);
}

function replyError(e: ApiError, reply: (status: number, body: string) => void): void {
  reply(e.status, JSON.stringify(e.body));
}

/** The envelope for one page, with the page-level faults applied, as bytes (see bytes.ts). */
function buildPage(
  s: SimState,
  w: ByteWriter,
  q: ListQuery,
  now: number,
  d: FaultDecision,
): Buffer {
  const ids = s.engine.match(q, now);
  if (d.fault === 'shift') {
    const prev = s.shifts.get(q.key) ?? 0;
    s.shifts.set(q.key, Math.min(10, prev + 1 + Math.floor(d.u * 3)));
  }
  const shift = Math.min(s.shifts.get(q.key) ?? 0, ids.length);
  // Records "inserted ahead of the reader": the first `shift` records appear twice in the sequence.
  const total = ids.length + shift;
  const at = (j: number): number => (j < shift ? ids[j] : ids[j - shift]);
  const start = (q.page - 1) * q.pageSize;
  const end = Math.min(total, start + q.pageSize);
  w.reset();
  w.ascii(`{"page":${q.page},"pageSize":${q.pageSize},"total":${total},"results":[`);
  if (!(d.fault === 'emptyPage' && start < total)) {
    let first = true;
    if (d.fault === 'duplicate' && start > 0 && start <= total) {
      s.serializer.write(w, q.stream, at(start - 1), now);
      first = false;
    }
    for (let j = start; j < end; j++) {
      if (!first) w.byte(44);
      first = false;
      s.serializer.write(w, q.stream, at(j), now);
    }
  }
  w.byte(93);
  w.byte(125);
  return w.buf.subarray(0, w.off);
}
