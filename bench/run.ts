/**
 * `npm run bench`: throughput, peak memory, API economy, rate-limit behaviour of `bin/main read`
 * against the simulator's calm scenario, and the Snowflake loader through fakesnow. Prints tables
 * and writes the same figures to bench/results/latest.json.
 *
 *   node bench/lib/run.js [--quick] [--only throughput,economy,ratelimit,loader,profile]
 *                            [--out FILE] [--no-wait]
 *
 * Run `npm run build` first (the harness runs the built connector from lib/ and simulator from simulator/lib/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { cleanupConnectorFiles } from './harness/connector';
import { economyCase, rateLimitCase, RateLimitRun } from './harness/economy';
import { loaderCase, loaderPythonProblem } from './harness/loader';
import { RESULTS_DIR, ROOT } from './harness/paths';
import { profileCase, profileTables } from './harness/profile';
import {
  describeMachine,
  formatNumber,
  machineInfo,
  renderTable,
  Table,
  waitForQuiet,
  writeJson,
} from './harness/report';
import { throughputCase, ThroughputResult } from './harness/throughput';

const CASES = ['throughput', 'economy', 'ratelimit', 'loader', 'profile'] as const;
/** Cases run when --only is not given (profile is on request: it slows the run it measures). */
const DEFAULT_CASES: CaseName[] = ['throughput', 'economy', 'ratelimit', 'loader'];
type CaseName = (typeof CASES)[number];

interface Args {
  quick: boolean;
  only: Set<CaseName>;
  out: string;
  wait: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    quick: false,
    only: new Set(DEFAULT_CASES),
    out: path.join(RESULTS_DIR, 'latest.json'),
    wait: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') args.quick = true;
    else if (arg === '--no-wait') args.wait = false;
    else if (arg === '--out') args.out = path.resolve(argv[++i] ?? '');
    else if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',');
      const unknown = names.filter((n) => !CASES.includes(n as CaseName));
      if (unknown.length)
        throw new Error(`--only: unknown case ${unknown.join(', ')}; use ${CASES.join(', ')}`);
      args.only = new Set(names as CaseName[]);
    } else throw new Error(`unknown argument ${arg}; see the header of bench/run.ts`);
  }
  return args;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Requests per minute Orchestra is reported to allow per key (docs/orchestra-api.md). */
const ORCHESTRA_LIMIT = 50;

/** The connector's default `requests_per_minute`, from the spec users get. */
function defaultBudget(): number {
  const spec = JSON.parse(fs.readFileSync(path.join(ROOT, 'resources', 'spec.json'), 'utf8')) as {
    connectionSpecification: { properties: { requests_per_minute: { default: number } } };
  };
  return spec.connectionSpecification.properties.requests_per_minute.default;
}

function throughputTables(results: ThroughputResult[]): Table[] {
  const throughput: Table = {
    title:
      'Throughput: bin/main read, full refresh, 3 streams, real stdout pipe (target >= 50k records/s with 4 in flight)',
    columns: [
      'records',
      'in flight',
      'records/s',
      'pages/s',
      'wall s',
      'peak RSS MB',
      'CPU s',
      'records/CPU s',
      'sim CPU s',
      'ok',
    ],
    rows: results.map((r) => [
      formatNumber(r.records),
      r.pages_in_flight,
      formatNumber(r.records_per_s),
      formatNumber(r.pages_per_s, 1),
      r.wall_s,
      r.peak_rss_mb,
      r.cpu_s,
      formatNumber(r.records_per_cpu_s),
      r.simulator_cpu_s,
      r.ok ? 'yes' : `NO: ${r.failure}`,
    ]),
    notes: [
      'records/s counts from process start to exit; CPU s is the connector process (user + system);',
      'sim CPU s is the simulator serving the same run on the other core.',
    ],
  };
  const rss = results.filter(
    (r) => r.pages_in_flight === Math.max(...results.map((x) => x.pages_in_flight)),
  );
  const memory: Table = {
    title: 'Peak RSS of bin/main (its whole process tree; target flat, <= 150 MB)',
    columns: ['records', 'in flight', 'peak RSS MB (all processes)', 'largest process MB'],
    rows: rss.map((r) => [
      formatNumber(r.records),
      r.pages_in_flight,
      r.peak_rss_mb,
      r.peak_rss_largest_process_mb,
    ]),
  };
  return [throughput, memory];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Fail now, not after minutes of other cases, when the loader's Python packages are missing.
  const problem = args.only.has('loader') ? loaderPythonProblem() : null;
  if (problem) {
    process.stderr.write(`bench: ${problem}\n`);
    process.exit(1);
  }
  if (args.wait) await waitForQuiet(1.5, 20 * 60_000, log);
  const machine = machineInfo();
  log(`machine: ${describeMachine(machine)}`);
  const started = Date.now();
  const output: Record<string, unknown> = {
    generated_at: new Date().toISOString(),
    command: `node bench/lib/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    quick: args.quick,
    machine,
  };
  const tables: Table[] = [];
  try {
    if (args.only.has('throughput')) {
      const volumes = args.quick ? [20_000, 100_000] : [100_000, 1_000_000];
      const results = await throughputCase(volumes, [1, 4], log);
      output.throughput = results;
      tables.push(...throughputTables(results));
    }
    if (args.only.has('economy')) {
      const rows = await economyCase(args.quick ? 20_000 : 100_000, log);
      output.api_economy = rows;
      tables.push({
        title:
          'API economy: requests vs ceil(records/100) + one per window (target <= 1.05x on a backfill)',
        columns: [
          'sync',
          'records',
          'requests',
          'by id',
          'windows',
          'minimum',
          'ratio',
          'pages needed',
          '429s',
        ],
        rows: rows.map((r) => [
          r.sync,
          formatNumber(r.records),
          r.requests,
          r.by_id_requests,
          r.windows,
          r.minimum,
          `${r.ratio}x`,
          r.pages_needed_for_windows,
          r.status_429,
        ]),
        notes: [
          'records: distinct records delivered (backfill) or created/changed during the hour (incremental);',
          "pages needed: fewest list requests for the windows the connector chose, from each window's total.",
        ],
      });
    }
    if (args.only.has('ratelimit')) {
      // The simulator allows `limit` requests in any sliding minute of wall time, so each run
      // lasts whole minutes (each run about 2). Budget = limit at 300/min (many requests per
      // minute, 2 in flight), then the spec's default budget under Orchestra's own ~50/min.
      const runs: RateLimitRun[] = args.quick
        ? [{ label: 'budget = limit', limit: 60, budget: 60, minutes: 1.5 }]
        : [
            { label: 'budget = limit', limit: 300, budget: 300, minutes: 2.5 },
            {
              label: 'default budget, Orchestra limit',
              limit: ORCHESTRA_LIMIT,
              budget: defaultBudget(),
              minutes: 2.5,
            },
          ];
      const rows = await rateLimitCase(runs, log);
      output.rate_limit = rows;
      tables.push({
        title:
          'Rate limit: backfill under a per-minute limit (targets: 0 x 429, wall <= 1.05x the floor)',
        columns: [
          'case',
          'limit/min',
          'budget/min',
          'records',
          'requests',
          '429s',
          'busiest minute',
          'wall s',
          'span s',
          'floor s',
          'ratio',
          'requests/limit s',
          'ratio',
        ],
        rows: rows.map((r) => [
          r.label,
          r.limit_per_minute,
          r.connector_budget_per_minute,
          formatNumber(r.records),
          r.requests,
          r.status_429,
          r.busiest_minute,
          r.wall_s,
          r.span_s,
          r.floor_s,
          `${r.ratio}x`,
          r.steady_s,
          `${r.steady_ratio}x${r.ok ? '' : ` FAILED: ${r.failure}`}`,
        ]),
        notes: [
          'floor s = floor((requests - 1) / limit) minutes: under a sliding minute no client can finish sooner;',
          'ratio = wall / floor; requests/limit s = the same requests at a steady limit rate; busiest',
          "minute: answered requests in any 60 s at the proxy; wall s: bin/main's start to exit; span s:",
          'first to last answer at the proxy.',
        ],
      });
    }
    if (args.only.has('loader')) {
      const result = await loaderCase(args.quick ? [1_000, 10_000] : [10_000, 100_000], log);
      output.loader = result;
      tables.push({
        title:
          'Snowflake native app loader through fakesnow (target: same statement count for 10k and 100k)',
        columns: ['records', 'SQL statements', 'seconds', 'rows/s'],
        rows: result.map((r) => [
          formatNumber(r.records),
          r.statements,
          r.seconds,
          formatNumber(r.rows_per_s),
        ]),
      });
    }
    if (args.only.has('profile')) {
      const dir = path.join(RESULTS_DIR, 'profiles');
      const summary = await profileCase(args.quick ? 20_000 : 100_000, 4, dir, log);
      output.profile = summary;
      tables.push(...profileTables(summary));
    }
  } finally {
    cleanupConnectorFiles();
  }
  output.duration_s = Math.round((Date.now() - started) / 1000);
  writeJson(args.out, output);
  process.stdout.write(`Machine: ${describeMachine(machine)}\n\n`);
  for (const table of tables) process.stdout.write(`${renderTable(table)}\n\n`);
  process.stdout.write(
    `Wrote ${path.relative(process.cwd(), args.out)} (${output.duration_s} s)\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
