#!/usr/bin/env node
/**
 * Command line: `orchestra-simulator --port 0 [--seed N] [--scenario calm|realistic|hostile] ...`
 * (the package's bin; `node simulator/lib/cli.js ...` from the repository root after `npm run build`).
 * The first line on stdout is `listening on http://127.0.0.1:<port>/api/engine/public`; it serves until killed.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { startSimulator } from './index';
import {
  ENDPOINTS,
  Endpoint,
  FaultRates,
  NO_FAULTS,
  SCENARIOS,
  ScenarioName,
  SimulatorOptionsInput,
} from './options';

function int(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return Number(v);
  };
}

function num(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a non-negative number`);
    return n;
  };
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

const faultNames = Object.keys(NO_FAULTS).join(', ');

function parseFault(spec: string): { endpoint?: Endpoint; name: keyof FaultRates; rate: number } {
  const m = /^(?:([a-z_]+):)?([a-zA-Z]+)=([0-9.]+)$/.exec(spec);
  if (!m)
    throw new InvalidArgumentError(
      `expected [endpoint:]name=rate, e.g. serverError=0.05 or task_runs:hang=0.1, got "${spec}"`,
    );
  const [, ep, name, rate] = m;
  if (!(name in NO_FAULTS))
    throw new InvalidArgumentError(`unknown fault "${name}": use one of ${faultNames}`);
  if (ep !== undefined && !ENDPOINTS.includes(ep as Endpoint)) {
    throw new InvalidArgumentError(`unknown endpoint "${ep}": use one of ${ENDPOINTS.join(', ')}`);
  }
  return {
    endpoint: ep as Endpoint | undefined,
    name: name as keyof FaultRates,
    rate: Number(rate),
  };
}

const scenarioHelp = (Object.keys(SCENARIOS) as ScenarioName[])
  .map((n) => `  ${n.padEnd(10)} ${SCENARIOS[n].description}`)
  .join('\n');

const program = new Command()
  .name('orchestra-simulator')
  .description('A simulator of the Orchestra metadata API (pipeline runs, task runs, operations).')
  .option('--port <n>', 'port to listen on; 0 picks a free port', int('port'), 0)
  .option('--host <addr>', 'address to bind', '127.0.0.1')
  .option(
    '--seed <n>',
    'seed of the simulated world (same seed and switches: same data)',
    int('seed'),
    1,
  )
  .addOption(
    new Option('--scenario <name>', 'bundle of switches (see below)')
      .choices(Object.keys(SCENARIOS))
      .default('calm'),
  )
  .addOption(
    new Option(
      '--clock <mode>',
      'wall: time flows (history up to now); manual: moves only on POST /_sim/advance',
    )
      .choices(['wall', 'manual'])
      .default('wall'),
  )
  .option('--start <iso>', 'simulated time at start (default: now)')
  .option(
    '--records <n>',
    'approximate records (all streams) served within 7 days at start',
    int('records'),
    2000,
  )
  .addOption(
    new Option(
      '--window-field <f>',
      'field time_from/time_to filter on: created (createdAt/insertedAt) or updated',
    ).choices(['created', 'updated']),
  )
  .addOption(new Option('--order <o>', 'result order').choices(['asc', 'desc', 'shuffled']))
  .addOption(
    new Option('--optional <m>', 'optional fields without a value: null or omit').choices([
      'null',
      'omit',
    ]),
  )
  .option('--api-key <key>', 'accepted API key (repeatable; default simulator-key)', collect)
  .option('--rate-limit <n>', 'requests per minute per key, 0 = unlimited', int('rate-limit'))
  .addOption(
    new Option('--retry-after <style>', 'Retry-After on 429: seconds, date, none or mixed').choices(
      ['seconds', 'date', 'none', 'mixed'],
    ),
  )
  .option(
    '--retention-days <n>',
    'list endpoints serve only the last N days (0 = unlimited)',
    num('retention-days'),
    7,
  )
  .addOption(
    new Option('--wide-window <m>', 'window over 7 days: reject (422) or clamp')
      .choices(['reject', 'clamp'])
      .default('reject'),
  )
  .option(
    '--multi-account',
    'the key covers several accounts: requests need X-Orchestra-Account-Id (else 400)',
    false,
  )
  .option('--non-enterprise', 'every key gets 403 (workspace not on the Enterprise plan)', false)
  .option(
    '--hang-ms <n>',
    'how long a never-responding request hangs before the connection drops',
    num('hang-ms'),
  )
  .option('--slow-ms <n>', 'delay of a slow response', num('slow-ms'))
  .option(
    '--fault <[endpoint:]name=rate>',
    `fault rate 0..1, repeatable; faults: ${faultNames}`,
    collect,
  )
  .option('--history-days <n>', 'days of history generated before start', num('history-days'), 8)
  .option(
    '--request-log-size <n>',
    'requests kept in the log (GET /_sim/requests)',
    int('request-log-size'),
    10000,
  )
  .option('--verbose', 'one line per request on stderr', false)
  .addHelpText(
    'after',
    `\nScenarios:\n${scenarioHelp}\n\nControl API (no auth): POST /_sim/advance?ms=N, GET /_sim/now, GET /_sim/truth/<stream>,\nGET /_sim/stats, GET /_sim/requests, GET /_sim/info, POST /_sim/config (JSON switches, {"inject":[...]}).`,
  );

interface CliOpts {
  port: number;
  host: string;
  seed: number;
  scenario: ScenarioName;
  clock: 'wall' | 'manual';
  start?: string;
  records: number;
  windowField?: 'created' | 'updated';
  order?: 'asc' | 'desc' | 'shuffled';
  optional?: 'null' | 'omit';
  apiKey?: string[];
  rateLimit?: number;
  retryAfter?: 'seconds' | 'date' | 'none' | 'mixed';
  retentionDays: number;
  wideWindow: 'reject' | 'clamp';
  multiAccount: boolean;
  nonEnterprise: boolean;
  hangMs?: number;
  slowMs?: number;
  fault?: string[];
  historyDays: number;
  requestLogSize: number;
  verbose: boolean;
}

async function main(): Promise<void> {
  program.exitOverride();
  try {
    program.parse(process.argv);
  } catch (err) {
    // Commander has printed its message (or the help); bad switches exit 2 like every other bad input.
    process.exit(err instanceof CommanderError && err.exitCode === 0 ? 0 : 2);
  }
  const o = program.opts<CliOpts>();
  const input: SimulatorOptionsInput = {
    port: o.port,
    host: o.host,
    seed: o.seed,
    scenario: o.scenario,
    clock: o.clock,
    start: o.start,
    records: o.records,
    windowField: o.windowField,
    order: o.order,
    optional: o.optional,
    apiKeys: o.apiKey,
    rateLimit: o.rateLimit,
    retryAfter: o.retryAfter,
    retentionDays: o.retentionDays,
    wideWindow: o.wideWindow,
    multiAccount: o.multiAccount,
    nonEnterprise: o.nonEnterprise,
    hangMs: o.hangMs,
    slowMs: o.slowMs,
    historyDays: o.historyDays,
    requestLogSize: o.requestLogSize,
    verbose: o.verbose,
  };
  if (o.fault?.length) {
    const rates: Partial<FaultRates> = {};
    const perEndpoint: Partial<Record<Endpoint, Partial<FaultRates>>> = {};
    for (const spec of o.fault) {
      const f = parseFault(spec);
      if (f.endpoint)
        perEndpoint[f.endpoint] = { ...(perEndpoint[f.endpoint] ?? {}), [f.name]: f.rate };
      else rates[f.name] = f.rate;
    }
    input.faults = { rates, perEndpoint };
  }
  for (const k of Object.keys(input) as (keyof SimulatorOptionsInput)[]) {
    if (input[k] === undefined) delete input[k];
  }
  const sim = await startSimulator(input);
  process.stdout.write(`listening on ${sim.baseUrl}\n`);
  process.stderr.write(
    `simulator: scenario ${sim.options.scenario}, seed ${sim.options.seed}, clock ${sim.options.clock} at ${sim.clock.now().toISOString()}, ` +
      `window field ${sim.options.windowField}, order ${sim.options.order}, control API at ${sim.rootUrl}/_sim\n`,
  );
  const stop = (): void => {
    sim.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`simulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
