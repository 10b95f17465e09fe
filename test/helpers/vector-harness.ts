/**
 * Runs the shared algorithm vectors (test/vectors/README.md) against the Airbyte source's engine:
 * a scripted HTTP server on 127.0.0.1, the real OrchestraClient and ServerClock, and StreamEngine.
 * snowflake/tests/support/vector_harness.py does the same for the Snowflake app's engine.
 */
import fs from 'fs';
import http from 'http';
import { AddressInfo } from 'net';
import path from 'path';

import { Log, OrchestraClient, QueryParams } from '../../src/client/client';
import { ServerClock } from '../../src/clock';
import { failureTypeOf, messageOf } from '../../src/errors';
import { EngineEvent, StreamEngine } from '../../src/streams/engine';
import { streamDefinition, streamSchema } from '../../src/streams/registry';

export const VECTOR_DIR = path.resolve(__dirname, '..', 'vectors');
export const API_KEY = 'vector-secret-key-3f9c2d71';
const DEFAULT_AT = '2026-03-10T11:30:00.000Z';
const DEFAULT_STATUS = 'SUCCEEDED';
const HOUR_MS = 3_600_000;

type Json = unknown;
type Params = Record<string, string | number | null | string[]>;

export interface Reply {
  total?: number;
  results?: string[];
  dataset?: string[];
  page_size?: number;
  status?: number;
  headers?: Record<string, string>;
  body?: Json;
  /** A body sent byte for byte (status 200 unless `status` says otherwise). */
  raw?: string;
  delay_ms?: number;
}

export interface Rule {
  when?: Params;
  reply?: Reply;
  replies?: Reply[];
}

export interface VectorConfig {
  stream: string;
  page_size: number;
  lookback_hours: number;
  window_hours: number;
  start_date?: string | null;
  filters?: Record<string, string>;
  refetch_params?: Record<string, string>;
  max_attempts?: number;
  timeout_ms?: number;
}

export interface VectorState {
  cursor: string;
  open_ids: string[];
}

export interface Expectation {
  requests?: Params[];
  request_count?: number;
  records: string[];
  states: VectorState[];
  warnings: string[];
  error: { type: string; message: string[] } | null;
  waits_s?: Array<[number, number]>;
}

export interface VectorCase {
  file: string;
  name: string;
  config: VectorConfig;
  state: VectorState | null;
  server_time: string;
  elapsed_ms?: number;
  /** `closed`: the client is pointed at a port where nothing listens. */
  api?: 'closed';
  script: Rule[];
  expect: Expectation;
}

/** Every case of every vector file, defaults applied (`config` and `expect` merged key by key). */
export function loadVectors(dir: string = VECTOR_DIR): VectorCase[] {
  const cases: VectorCase[] = [];
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const doc = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
      defaults?: Record<string, Json>;
      cases: Array<Record<string, Json>>;
    };
    const defaults = doc.defaults ?? {};
    for (const raw of doc.cases) {
      const merged: Record<string, Json> = { script: [], ...defaults, ...raw, file };
      for (const key of ['config', 'expect']) {
        merged[key] = { ...(defaults[key] as object), ...(raw[key] as object) };
      }
      cases.push(merged as unknown as VectorCase);
    }
  }
  return cases;
}

/** `r{01..03}` -> r01, r02, r03 (zero-padded like bash when the bound is); other text as is. */
export function expand(text: string): string[] {
  const m = /^(.*)\{(\d+)\.\.(\d+)\}(.*)$/.exec(text);
  if (!m) return [text];
  const [, head, lo, hi, tail] = m;
  const width = lo.startsWith('0') ? lo.length : 0;
  const out: string[] = [];
  for (let i = Number(lo); i <= Number(hi); i++)
    out.push(`${head}${String(i).padStart(width, '0')}${tail}`);
  return out;
}

export interface VectorRecord {
  id: string;
  at: string;
  status: string;
}

/** `"ID [AT] [STATUS]"` with defaults; ranges in the id expand. */
export function parseRecords(specs: string[]): VectorRecord[] {
  const out: VectorRecord[] = [];
  for (const spec of specs) {
    for (const line of expand(spec)) {
      const [id, ...rest] = line.trim().split(/\s+/);
      let at = DEFAULT_AT;
      let status = DEFAULT_STATUS;
      for (const token of rest) {
        if (/^\d{4}-/.test(token)) at = token;
        else status = token;
      }
      out.push({ id, at: canonicalInstant(at), status });
    }
  }
  return out;
}

export function canonicalInstant(value: unknown): string {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? String(value) : new Date(ms).toISOString();
}

export function recordText(r: VectorRecord): string {
  return `${r.id} ${r.at} ${r.status}`;
}

function ids(list: string[]): string[] {
  return list.flatMap(expand);
}

/** A parameter's expected value as the client sends it: lists joined by commas. */
function asSent(value: string | number | string[]): string {
  return Array.isArray(value) ? ids(value).join(',') : String(value);
}

export interface SeenRequest {
  path: string;
  query: Record<string, string>;
  authorised: boolean;
}

/** The scripted API: the first matching rule answers; unmatched requests get an empty page. */
export class ScriptedApi {
  readonly requests: SeenRequest[] = [];
  private server?: http.Server;
  private rules: Rule[] = [];
  private used: number[] = [];
  private serverDate = '';
  private cursorApi = 'updatedAt';
  private statusApi = 'runStatus';
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Parsed datasets, so a 20,000-record dataset is not parsed again for each of its pages. */
  private readonly parsed = new WeakMap<Reply, VectorRecord[]>();

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.answer(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/api`;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  use(c: VectorCase): void {
    this.rules = c.script;
    this.used = c.script.map(() => 0);
    this.requests.length = 0;
    this.serverDate = new Date(c.server_time).toUTCString();
    const def = streamDefinition(c.config.stream);
    this.cursorApi = camel(def.cursor_field);
    this.statusApi = camel(def.status_field);
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/^\/api/, '');
    const query = Object.fromEntries(url.searchParams.entries());
    this.requests.push({
      path,
      query,
      authorised: req.headers.authorization === `Bearer ${API_KEY}`,
    });
    const reply = this.pick(path, query);
    const send = (): void => {
      const headers: Record<string, string> = {
        Date: this.serverDate,
        'Content-Type': 'application/json',
        ...reply.headers,
      };
      if (reply.raw !== undefined) {
        res.writeHead(reply.status ?? 200, headers);
        res.end(reply.raw);
        return;
      }
      if (reply.status !== undefined) {
        res.writeHead(reply.status, headers);
        res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
        return;
      }
      res.writeHead(200, headers);
      res.end(JSON.stringify(this.page(reply, query)));
    };
    if (reply.delay_ms) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!res.destroyed) send();
      }, reply.delay_ms);
      this.timers.add(timer);
    } else send();
  }

  private pick(path: string, query: Record<string, string>): Reply {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i];
      if (!matches(rule.when ?? {}, path, query)) continue;
      if (rule.reply) return rule.reply;
      const replies = rule.replies ?? [];
      const reply = replies[Math.min(this.used[i], replies.length - 1)];
      this.used[i]++;
      return reply;
    }
    return { total: 0, results: [] };
  }

  private page(reply: Reply, query: Record<string, string>): Json {
    const page = Number(query.page ?? 1);
    const asked = Number(query.page_size ?? 100);
    const size = reply.page_size !== undefined ? Math.min(reply.page_size, asked) : asked;
    let records: VectorRecord[];
    let total: number;
    if (reply.dataset) {
      let all = this.parsed.get(reply);
      if (!all) {
        all = parseRecords(reply.dataset);
        this.parsed.set(reply, all);
      }
      records = all.slice((page - 1) * size, page * size);
      total = reply.total ?? all.length;
    } else {
      records = parseRecords(reply.results ?? []);
      total = reply.total ?? records.length;
    }
    return {
      page,
      pageSize: size,
      total,
      results: records.map((r) => ({
        id: r.id,
        [this.cursorApi]: r.at,
        [this.statusApi]: r.status,
      })),
    };
  }
}

function camel(field: string): string {
  return field.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function matches(when: Params, path: string, query: Record<string, string>): boolean {
  for (const [key, want] of Object.entries(when)) {
    const got = key === 'path' ? path : query[key];
    if (want === null) {
      if (got !== undefined) return false;
    } else if (got !== asSent(want)) return false;
  }
  return true;
}

class MemoryLog implements Log {
  readonly lines: Array<{ level: string; message: string }> = [];
  debug(message: string): void {
    this.lines.push({ level: 'debug', message });
  }
  info(message: string): void {
    this.lines.push({ level: 'info', message });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }
}

/** What one engine did, in the vectors' terms. */
export interface Outcome {
  requests: SeenRequest[];
  records: string[];
  states: VectorState[];
  warnings: string[];
  error: { type: string; message: string } | null;
  waits_s: number[];
  /** Everything the engine and client wrote, to check the key never appears. */
  text: string;
}

/** A local port nothing listens on (it was free a moment ago). */
async function closedPortUrl(): Promise<string> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}/api`;
}

export async function runCase(c: VectorCase, api: ScriptedApi, apiUrl: string): Promise<Outcome> {
  api.use(c);
  const baseUrl = c.api === 'closed' ? await closedPortUrl() : apiUrl;
  const cfg = c.config;
  const definition = streamDefinition(cfg.stream);
  // The clock saw the server's Date header at monotonic 0 (as after the connection check), then
  // `elapsed_ms` of local time passed before the sync plans.
  let monotonic = 0;
  const clock = new ServerClock(
    () => Date.now(),
    () => monotonic,
  );
  clock.observe(new Date(c.server_time).toUTCString());
  monotonic = c.elapsed_ms ?? 0;
  const engineLog = new MemoryLog();
  const clientLog = new MemoryLog();
  const waits: number[] = [];
  const client = new OrchestraClient({
    baseUrl,
    apiKey: API_KEY,
    timeoutMs: cfg.timeout_ms ?? 5000,
    maxSockets: 4,
    requestsPerMinute: 100000,
    retryBudgetMs: 600_000,
    clock,
    log: clientLog,
    retry: { maxAttempts: cfg.max_attempts ?? 8, baseDelayMs: 1000, random: () => 0.5 },
    sleep: async (ms) => {
      waits.push(ms / 1000);
    },
  });
  const engine = new StreamEngine({
    definition,
    schemaProperties: Object.keys(streamSchema(cfg.stream).properties),
    client,
    clock,
    log: engineLog,
    incremental: true,
    state: c.state ? { cursor: c.state.cursor, open_ids: ids(c.state.open_ids) } : undefined,
    startDate: cfg.start_date ? new Date(cfg.start_date) : undefined,
    lookbackWindowMs: cfg.lookback_hours * HOUR_MS,
    sliceMs: cfg.window_hours * HOUR_MS,
    pageSize: cfg.page_size,
    // One page at a time: the request order is then the algorithm's, as in the Python engine.
    pagesInFlight: 1,
    filters: (cfg.filters ?? {}) as QueryParams,
    refetchParams: (cfg.refetch_params ?? {}) as QueryParams,
  });
  const records: string[] = [];
  const states: VectorState[] = [];
  let error: Outcome['error'] = null;
  try {
    for await (const event of engine.run()) collect(event, definition, records, states);
  } catch (err) {
    error = { type: failureTypeOf(err), message: messageOf(err) };
  } finally {
    client.close();
  }
  const lines = [...engineLog.lines, ...clientLog.lines].map((l) => l.message);
  return {
    requests: [...api.requests],
    records,
    states,
    warnings: engineLog.lines.filter((l) => l.level === 'warn').map((l) => l.message),
    error,
    waits_s: waits,
    text: [...lines, error?.message ?? ''].join('\n'),
  };
}

function collect(
  event: EngineEvent,
  definition: { cursor_field: string; status_field: string },
  records: string[],
  states: VectorState[],
): void {
  if (event.type === 'state') {
    states.push({ cursor: event.state.cursor, open_ids: [...event.state.open_ids] });
  } else if (event.type === 'records') {
    // Records are NUL-separated stream-record JSON (the engine's default framing).
    for (const chunk of event.bytes.toString('utf8').split('\0')) {
      if (!chunk) continue;
      const r = JSON.parse(chunk) as Record<string, unknown>;
      records.push(
        recordText({
          id: String(r.id),
          at: canonicalInstant(r[definition.cursor_field]),
          status: String(r[definition.status_field]),
        }),
      );
    }
  }
}

/**
 * The outcome projected onto what the case expects, so a runner compares the two with one deep
 * equality and a failure shows a readable diff.
 */
export function project(c: VectorCase, o: Outcome): Record<string, Json> {
  const e = c.expect;
  const out: Record<string, Json> = {
    records: o.records,
    states: o.states,
    warnings: o.warnings.map((w, i) =>
      e.warnings[i] !== undefined && w.includes(e.warnings[i]) ? e.warnings[i] : w,
    ),
    error: o.error
      ? {
          type: o.error.type,
          message: (e.error?.message ?? []).map((m) =>
            o.error?.message.includes(m) ? m : `<not in> ${o.error?.message}`,
          ),
        }
      : null,
    waits_s: o.waits_s.map((w, i) => {
      const range = e.waits_s?.[i];
      return range && w >= range[0] - 1e-9 && w <= range[1] + 1e-9 ? range : [w, w];
    }),
    authorised: o.requests.every((r) => r.authorised),
    key_leaked: o.text.includes(API_KEY),
  };
  if (e.requests) {
    out.requests = o.requests.map((r, i) => {
      const want = e.requests?.[i] ?? {};
      const got: Record<string, string | null> = {};
      for (const key of Object.keys(want)) {
        got[key] = key === 'path' ? r.path : (r.query[key] ?? null);
      }
      return got;
    });
  } else {
    out.request_count = o.requests.length;
  }
  return out;
}

/** The case's expectations in the same shape as `project`. */
export function expected(c: VectorCase): Record<string, Json> {
  const e = c.expect;
  const out: Record<string, Json> = {
    records: parseRecords(e.records).map(recordText),
    states: e.states.map((s) => ({ cursor: s.cursor, open_ids: ids(s.open_ids) })),
    warnings: e.warnings,
    error: e.error,
    waits_s: e.waits_s ?? [],
    authorised: true,
    key_leaked: false,
  };
  if (e.requests) {
    out.requests = e.requests.map((r) => {
      const want: Record<string, string | null> = {};
      for (const [key, value] of Object.entries(r))
        want[key] = value === null ? null : asSent(value);
      return want;
    });
  } else {
    out.request_count = e.request_count;
  }
  return out;
}
