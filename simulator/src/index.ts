/**
 * A simulator of Orchestra's metadata API (pipeline runs, task runs, operations) for tests,
 * benchmarks and the demo. See simulator/README.md.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import VError from 'verror';
import { SimClock, createClock } from './sim-clock';
import { STREAMS, StreamName, US_PER_DAY } from './constants';
import { createControl } from './control';
import { ByteWriter } from './bytes';
import { Engine } from './query-engine';
import { FaultInjector, Injection, RateLimiter } from './faults';
import { INTEGRATIONS } from './integrations';
import { Counters, Observer, RequestLogEntry } from './observe';
import { SimulatorOptions, SimulatorOptionsInput, resolveOptions } from './options';
import { parseDateTime } from './query';
import { Serializer } from './serialize';
import { PUBLIC_PREFIX, SimState, createHandler } from './server';
import { World } from './world';
import { buildWorkspace } from './workspace';

export { PUBLIC_PREFIX } from './server';
export type { SimulatorOptions, SimulatorOptionsInput, FaultRates, ScenarioName } from './options';
export { SCENARIOS, DEFAULT_API_KEY } from './options';
export type { RequestLogEntry, Counters } from './observe';
export type { Injection, FaultKind } from './faults';
export type { StreamName } from './constants';

export type ApiRecord = Record<string, unknown>;

export interface SimulatorHandle {
  /** e.g. http://127.0.0.1:1234/api/engine/public */
  baseUrl: string;
  /** e.g. http://127.0.0.1:1234 (the control API lives under /_sim). */
  rootUrl: string;
  port: number;
  accountId: string;
  options: SimulatorOptions;
  close(): Promise<void>;
  clock: { now(): Date; advance(ms: number): void };
  /** The most recent requests (live array; at most `requestLogSize`). */
  requestLog: RequestLogEntry[];
  /** Request counters per endpoint, status and fault (a fresh snapshot on each access). */
  readonly counters: Counters;
  /** Every record's latest version as of the simulated now, regardless of retention (API form, nulls included). */
  truth(stream: StreamName, opts?: { includeSuperseded?: boolean }): ApiRecord[];
  /** Change switches at run time (same fields as the options, except seed, records, start, clock, port). */
  configure(input: SimulatorOptionsInput): void;
  /** Force faults on the next matching requests. */
  inject(list: Injection[]): void;
  resetStats(): void;
}

const FIXED = ['seed', 'records', 'start', 'clock', 'port', 'host', 'historyDays'] as const;

export async function startSimulator(input: SimulatorOptionsInput = {}): Promise<SimulatorHandle> {
  let opts = resolveOptions(input);
  let explicit: SimulatorOptionsInput = { ...input };
  const startUs =
    opts.start !== undefined
      ? (parseDateTime(opts.start) ?? NaN)
      : Math.floor(Date.now() / 1000) * 1e6;
  if (!Number.isFinite(startUs) || startUs < Date.UTC(2020, 1, 1) * 1000) {
    throw new VError('start must be an ISO 8601 date-time after 2020-02-01, got "%s"', opts.start);
  }
  const clock: SimClock = createClock(opts.clock, startUs);
  const ws = buildWorkspace(opts.seed, opts.records);
  const world = new World(opts.seed, ws, startUs - opts.historyDays * US_PER_DAY);
  world.ensure(startUs);
  const engine = new Engine(world, {
    windowField: opts.windowField,
    order: opts.order,
    retentionDays: opts.retentionDays,
  });
  const truthSerializer = new Serializer(world, 'null');

  const state: SimState = {
    opts,
    world,
    engine,
    serializer: new Serializer(world, opts.optional),
    writers: [],
    faults: new FaultInjector(opts.seed, opts.faults),
    limiter: new RateLimiter(opts.rateLimit),
    observer: new Observer(opts.requestLogSize),
    clock,
    parseCtx: {
      world,
      pipelineByUuid: new Map(ws.pipelines.map((p) => [p.id, p.idx])),
      envByUuid: new Map(ws.environments.map((e) => [e.id, e.idx])),
      integrations: new Set(INTEGRATIONS),
    },
    shifts: new Map(),
    control: async () => undefined,
  };
  engine.serializeOp = (i) => truthSerializer.record('operations', i, 0);

  /** The truth as one JSON array (bytes): parsed once by truth(), sent as is by GET /_sim/truth. */
  const truthJson = (stream: StreamName, o: { includeSuperseded?: boolean } = {}): Buffer => {
    if (!STREAMS.includes(stream))
      throw new VError('unknown stream "%s": use one of %s', stream, STREAMS.join(', '));
    const exact = clock.nowUs();
    world.ensure(exact);
    // The same instant the list endpoints evaluate (whole seconds on the wall clock).
    const now = clock.mode === 'wall' ? Math.floor(exact / 1e6) * 1e6 : exact;
    const key = world.createdKey(stream);
    const hideSuperseded = stream === 'task_runs' && o.includeSuperseded === false;
    const w = new ByteWriter(1 << 20);
    w.byte(91);
    let first = true;
    for (const i of world.order[stream]) {
      if (key[i] > now) continue;
      if (hideSuperseded && world.tasks.superseded.data[i] <= now) continue;
      if (!first) w.byte(44);
      first = false;
      truthSerializer.write(w, stream, i, now);
    }
    w.byte(93);
    return w.buf.subarray(0, w.off);
  };
  const truth = (stream: StreamName, o: { includeSuperseded?: boolean } = {}): ApiRecord[] =>
    JSON.parse(truthJson(stream, o).toString('latin1')) as ApiRecord[];

  const configure = (change: SimulatorOptionsInput): void => {
    for (const k of FIXED) {
      if (k in change)
        throw new VError('"%s" cannot change while the simulator runs: start a new one', k);
    }
    const next = { ...explicit, ...change };
    // A new scenario brings its own defaults for the switches not set explicitly in this call.
    if (change.scenario) {
      for (const k of [
        'windowField',
        'order',
        'optional',
        'rateLimit',
        'retryAfter',
        'hangMs',
        'slowMs',
        'faults',
      ] as const) {
        if (!(k in change)) delete next[k];
      }
    }
    const resolved = resolveOptions(next);
    explicit = next;
    opts = resolved;
    state.opts = resolved;
    engine.settings = {
      windowField: resolved.windowField,
      order: resolved.order,
      retentionDays: resolved.retentionDays,
    };
    engine.clearCache();
    state.serializer = new Serializer(world, resolved.optional);
    state.faults.config = resolved.faults;
    state.limiter.perMinute = resolved.rateLimit;
    state.shifts.clear();
  };

  const info = (): unknown => ({
    now: clock.now().toISOString(),
    accountId: ws.accountId,
    environments: ws.environments.map((e) => ({ id: e.id, name: e.name })),
    pipelines: ws.pipelines.map((p) => ({
      id: p.id,
      name: p.name,
      intervalSeconds: p.intervalUs / 1e6,
      tasks: p.tasks.length,
    })),
    options: { ...state.opts, apiKeys: state.opts.apiKeys.map(() => '<redacted>') },
    pendingInjections: state.faults.pendingInjections(),
  });

  state.control = createControl(() => state, { truth: truthJson, reconfigure: configure, info });
  const server = http.createServer(createHandler(state));
  server.keepAliveTimeout = 65000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new VError(
          err,
          'simulator could not listen on %s:%d (choose another --port, or 0 for any free port)',
          opts.host,
          opts.port,
        ),
      ),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const rootUrl = `http://${opts.host}:${port}`;
  return {
    baseUrl: rootUrl + PUBLIC_PREFIX,
    rootUrl,
    port,
    accountId: ws.accountId,
    get options() {
      return state.opts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    clock: {
      now: () => clock.now(),
      advance: (ms: number) => {
        clock.advance(ms);
        world.ensure(clock.nowUs());
      },
    },
    requestLog: state.observer.log,
    get counters() {
      return JSON.parse(JSON.stringify(state.observer.counters)) as Counters;
    },
    truth,
    configure,
    inject: (list) => state.faults.inject(list),
    resetStats: () => state.observer.reset(),
  };
}
