/**
 * Throughput and peak memory of `bin/main read` (full refresh, all three streams, real stdout pipe),
 * and the same figures for the low-code peer on the same simulator.
 */
import { failureOf, MeasuredRun } from './child';
import { runConnector } from './connector';
import { isoSeconds, runPeer } from './peer';
import { Simulator, startSimulator } from './simulator';
import { listRequestCount } from './sim-stats';

/** Simulated "now" of every benchmark: fixed, so runs are comparable from one day to the next. */
export const BENCH_START = '2026-03-02T12:00:00Z';

export interface ThroughputResult {
  client: 'ours' | 'peer';
  records_target: number;
  pages_in_flight: number;
  records: number;
  records_by_stream: Record<string, number>;
  wall_s: number;
  records_per_s: number;
  /** From the first RECORD to exit: throughput without process start-up. */
  records_per_s_streaming: number | null;
  pages: number;
  pages_per_s: number;
  /** Peak RSS of the connector's whole process tree (what the machine had to give it). */
  peak_rss_mb: number;
  /** Peak RSS of its largest process alone. */
  peak_rss_largest_process_mb: number;
  cpu_s: number;
  records_per_cpu_s: number;
  /** Bytes the connector wrote on stdout, in MB. */
  stdout_mb: number;
  simulator_cpu_s: number;
  /** CPU the benchmark itself spent reading the pipe (it shares the 2 cores). */
  harness_cpu_s: number;
  ok: boolean;
  failure: string | null;
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function summariseRun(
  client: ThroughputResult['client'],
  target: number,
  inFlight: number,
  run: MeasuredRun,
  pages: number,
  simCpu: number,
): ThroughputResult {
  const wall = run.wallMs / 1000;
  const records = run.lines.records;
  const { firstRecordMs } = run.lines;
  const streamingS = firstRecordMs === null ? null : (run.wallMs - firstRecordMs) / 1000;
  const cpu = run.userS + run.sysS;
  const failure = failureOf(run);
  return {
    client,
    records_target: target,
    pages_in_flight: inFlight,
    records,
    records_by_stream: run.lines.recordsByStream,
    wall_s: round(wall, 2),
    records_per_s: Math.round(records / wall),
    records_per_s_streaming: streamingS && streamingS > 0 ? Math.round(records / streamingS) : null,
    pages,
    pages_per_s: round(pages / wall),
    peak_rss_mb: round(run.treeRssMb),
    peak_rss_largest_process_mb: round(run.maxRssMb),
    cpu_s: round(cpu, 2),
    records_per_cpu_s: cpu > 0 ? Math.round(records / cpu) : 0,
    stdout_mb: round(run.lines.bytes / 2 ** 20),
    simulator_cpu_s: round(simCpu, 2),
    harness_cpu_s: round(run.harnessCpuS, 2),
    ok: failure === null,
    failure,
  };
}

export async function startBenchSimulator(records: number): Promise<Simulator> {
  return startSimulator({ records, scenario: 'calm', clock: 'manual', start: BENCH_START });
}

export async function measureOurs(
  sim: Simulator,
  target: number,
  inFlight: number,
  nodeArgs: string[] = [],
): Promise<ThroughputResult> {
  const pagesBefore = await listRequestCount(sim);
  const cpuBefore = sim.cpuSeconds();
  const run = await runConnector(sim, { config: { pages_in_flight: inFlight }, nodeArgs });
  const pages = (await listRequestCount(sim)) - pagesBefore;
  return summariseRun('ours', target, inFlight, run, pages, sim.cpuSeconds() - cpuBefore);
}

export async function measurePeer(
  sim: Simulator,
  target: number,
  workers: number,
): Promise<ThroughputResult> {
  const now = new Date(await sim.now());
  // The same span our connector reads by default: the API's 7-day retention up to the server's now.
  const start = new Date(now.getTime() - 7 * 86400_000 + 60_000);
  const pagesBefore = await listRequestCount(sim);
  const cpuBefore = sim.cpuSeconds();
  const run = await runPeer(sim, {
    startDate: isoSeconds(start),
    endDate: isoSeconds(now),
    numWorkers: workers,
  });
  const pages = (await listRequestCount(sim)) - pagesBefore;
  return summariseRun('peer', target, workers, run, pages, sim.cpuSeconds() - cpuBefore);
}

export async function throughputCase(
  volumes: number[],
  inFlights: number[],
  log: (line: string) => void,
): Promise<ThroughputResult[]> {
  const results: ThroughputResult[] = [];
  for (const records of volumes) {
    log(`throughput: starting the simulator with ${records} records...`);
    const sim = await startBenchSimulator(records);
    try {
      for (const inFlight of inFlights) {
        log(`throughput: bin/main read, ${records} records, ${inFlight} page(s) in flight...`);
        const result = await measureOurs(sim, records, inFlight);
        log(
          `  ${result.records} records in ${result.wall_s} s: ${result.records_per_s} records/s, ` +
            `peak RSS ${result.peak_rss_mb} MB${result.failure ? `, FAILED: ${result.failure}` : ''}`,
        );
        results.push(result);
      }
    } finally {
      await sim.stop();
    }
  }
  return results;
}
