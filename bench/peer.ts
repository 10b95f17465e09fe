/**
 * `npm run bench:peer`: our connector and the Airbyte low-code peer (bench/peers/airbyte-lowcode,
 * Python airbyte-cdk) against the same simulator and volume, runs alternating (ours, peer, ours, ...)
 * so drift in machine load hits both alike. Reports both records/s and peak RSS, and the ratio
 * (goal: ours >= 5x the peer's records/s with no more memory). Writes bench/results/peer-latest.json.
 *
 *   node bench/lib/peer.js [--quick] [--records N] [--runs N] [--in-flight N] [--peer-workers N]
 *                             [--out FILE] [--no-wait]
 */
import * as path from 'node:path';

import { cleanupConnectorFiles } from './harness/connector';
import { ensurePeer } from './harness/peer';
import { RESULTS_DIR } from './harness/paths';
import {
  describeMachine,
  formatNumber,
  machineInfo,
  median,
  renderTable,
  waitForQuiet,
  writeJson,
} from './harness/report';
import {
  measureOurs,
  measurePeer,
  startBenchSimulator,
  ThroughputResult,
} from './harness/throughput';

interface Args {
  records: number;
  runs: number;
  inFlight: number;
  peerWorkers: number;
  out: string;
  wait: boolean;
  quick: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    records: 100_000,
    runs: 3,
    inFlight: 4,
    peerWorkers: 4,
    out: path.join(RESULTS_DIR, 'peer-latest.json'),
    wait: true,
    quick: false,
  };
  const int = (name: string, value: string | undefined): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive whole number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') {
      args.quick = true;
      args.records = 20_000;
      args.runs = 2;
    } else if (arg === '--no-wait') args.wait = false;
    else if (arg === '--records') args.records = int(arg, argv[++i]);
    else if (arg === '--runs') args.runs = int(arg, argv[++i]);
    else if (arg === '--in-flight') args.inFlight = int(arg, argv[++i]);
    else if (arg === '--peer-workers') args.peerWorkers = int(arg, argv[++i]);
    else if (arg === '--out') args.out = path.resolve(argv[++i] ?? '');
    else throw new Error(`unknown argument ${arg}; see the header of bench/peer.ts`);
  }
  return args;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

interface Side {
  records_per_s: number;
  peak_rss_mb: number;
  cpu_s: number;
  records: number;
  pages: number;
}

function side(runs: ThroughputResult[]): Side {
  return {
    records_per_s: Math.round(median(runs.map((r) => r.records_per_s))),
    peak_rss_mb: Math.max(...runs.map((r) => r.peak_rss_mb)),
    cpu_s: Math.round(median(runs.map((r) => r.cpu_s)) * 100) / 100,
    records: Math.round(median(runs.map((r) => r.records))),
    pages: Math.round(median(runs.map((r) => r.pages))),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const peerVersion = ensurePeer(log);
  if (args.wait) await waitForQuiet(1.5, 20 * 60_000, log);
  const machine = machineInfo();
  log(`machine: ${describeMachine(machine)}`);
  log(`starting the simulator with ${args.records} records...`);
  const sim = await startBenchSimulator(args.records);
  const ours: ThroughputResult[] = [];
  const peer: ThroughputResult[] = [];
  try {
    for (let i = 1; i <= args.runs; i++) {
      log(`run ${i}/${args.runs}: ours (${args.inFlight} pages in flight)...`);
      ours.push(await measureOurs(sim, args.records, args.inFlight));
      log(
        `  ${ours[ours.length - 1].records_per_s} records/s, ${ours[ours.length - 1].peak_rss_mb} MB`,
      );
      log(
        `run ${i}/${args.runs}: peer (airbyte-cdk ${peerVersion}, ${args.peerWorkers} workers)...`,
      );
      peer.push(await measurePeer(sim, args.records, args.peerWorkers));
      log(
        `  ${peer[peer.length - 1].records_per_s} records/s, ${peer[peer.length - 1].peak_rss_mb} MB`,
      );
    }
  } finally {
    await sim.stop();
    cleanupConnectorFiles();
  }
  const a = side(ours);
  const b = side(peer);
  const ratio = Math.round((a.records_per_s / b.records_per_s) * 10) / 10;
  const failures = [...ours, ...peer].filter((r) => !r.ok).map((r) => `${r.client}: ${r.failure}`);
  const output = {
    generated_at: new Date().toISOString(),
    command: `node bench/lib/peer.js ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    records_target: args.records,
    runs_each: args.runs,
    ours: { pages_in_flight: args.inFlight, median: a, runs: ours },
    peer: { airbyte_cdk: peerVersion, workers: args.peerWorkers, median: b, runs: peer },
    speed_ratio: ratio,
    memory_ratio: Math.round((a.peak_rss_mb / b.peak_rss_mb) * 100) / 100,
    goal_met: ratio >= 5 && a.peak_rss_mb <= b.peak_rss_mb && failures.length === 0,
    failures,
  };
  writeJson(args.out, output);
  const table = renderTable({
    title: `Ours vs the Airbyte low-code peer, ${args.runs} alternating runs each (median records/s, max peak RSS)`,
    columns: ['client', 'records', 'records/s', 'peak RSS MB', 'CPU s', 'pages'],
    rows: [
      [
        `ours (bin/main, ${args.inFlight} in flight)`,
        formatNumber(a.records),
        formatNumber(a.records_per_s),
        a.peak_rss_mb,
        a.cpu_s,
        a.pages,
      ],
      [
        `peer (airbyte-cdk ${peerVersion}, ${args.peerWorkers} workers)`,
        formatNumber(b.records),
        formatNumber(b.records_per_s),
        b.peak_rss_mb,
        b.cpu_s,
        b.pages,
      ],
    ],
    notes: [
      `speed ratio ${ratio}x (goal >= 5x), memory ours/peer ${output.memory_ratio} (goal <= 1)`,
      ...failures.map((f) => `FAILED ${f}`),
    ],
  });
  process.stdout.write(`Machine: ${describeMachine(machine)}\n\n${table}\n\n`);
  process.stdout.write(`Wrote ${path.relative(process.cwd(), args.out)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:peer failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
