/**
 * The control API for subprocess users (Python tests, the demo), outside the public prefix, no auth:
 *   POST /_sim/advance?ms=N    -> {"now": ISO}
 *   GET  /_sim/now             -> {"now": ISO}
 *   GET  /_sim/truth/<stream>  -> every record's latest version (camelCase), regardless of retention
 *   GET  /_sim/stats           -> request counters;  GET /_sim/requests?limit=N -> the request log
 *   GET  /_sim/info            -> account, environments, pipelines, effective switches
 *   POST /_sim/config          -> change switches at run time, force faults ({"inject": [...]})
 *   POST /_sim/reset-stats     -> clear counters and log
 */
import http from 'node:http';
import { STREAMS, StreamName } from './constants';
import { Injection } from './faults';
import { SimulatorOptionsInput } from './options';
import { SimState } from './server';

export interface ControlHooks {
  /** The truth as a JSON array, ready to send. */
  truth(stream: StreamName, opts?: { includeSuperseded?: boolean }): Buffer;
  reconfigure(input: SimulatorOptionsInput): void;
  info(): unknown;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function createControl(getState: () => SimState, hooks: ControlHooks) {
  return async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const s = getState();
    const send = (status: number, body: unknown): void => {
      const json = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body), 'utf8');
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': json.length,
        Date: s.clock.now().toUTCString(),
      });
      res.end(json);
    };
    const path = url.pathname.slice('/_sim'.length);
    const method = req.method ?? 'GET';
    const nowBody = (): { now: string } => ({ now: s.clock.now().toISOString() });
    try {
      if (path === '/now' && method === 'GET') return send(200, nowBody());
      if (path === '/advance' && method === 'POST') {
        const ms = Number(url.searchParams.get('ms'));
        if (!url.searchParams.has('ms') || !Number.isFinite(ms) || ms < 0) {
          return send(422, { detail: 'advance needs ?ms=<non-negative number of milliseconds>' });
        }
        s.clock.advance(ms);
        s.world.ensure(s.clock.nowUs());
        return send(200, nowBody());
      }
      if (path.startsWith('/truth/') && method === 'GET') {
        const stream = path.slice('/truth/'.length) as StreamName;
        if (!STREAMS.includes(stream)) {
          return send(404, {
            detail: `unknown stream "${stream}": use one of ${STREAMS.join(', ')}`,
          });
        }
        const sup = url.searchParams.get('include_superseded');
        return send(
          200,
          hooks.truth(stream, { includeSuperseded: sup === null ? true : sup !== 'false' }),
        );
      }
      if (path === '/stats' && method === 'GET') return send(200, s.observer.counters);
      if (path === '/requests' && method === 'GET') {
        const limit = Number(url.searchParams.get('limit') ?? '1000');
        return send(200, s.observer.log.slice(-Math.max(0, limit)));
      }
      if (path === '/info' && method === 'GET') return send(200, hooks.info());
      if (path === '/reset-stats' && method === 'POST') {
        s.observer.reset();
        return send(200, { ok: true });
      }
      if (path === '/config' && method === 'POST') {
        const raw = await readBody(req);
        let body: SimulatorOptionsInput & { inject?: Injection[]; clearInjections?: boolean };
        try {
          body = raw.trim() ? JSON.parse(raw) : {};
        } catch {
          return send(400, { detail: 'config body must be a JSON object' });
        }
        const { inject, clearInjections, ...switches } = body;
        if (clearInjections) s.faults.clearInjections();
        if (Object.keys(switches).length) hooks.reconfigure(switches);
        if (inject) getState().faults.inject(inject);
        return send(200, hooks.info());
      }
      return send(404, { detail: `unknown control endpoint ${method} ${url.pathname}` });
    } catch (err) {
      return send(400, { detail: err instanceof Error ? err.message : String(err) });
    }
  };
}
