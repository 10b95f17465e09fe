/**
 * Throughput and memory of the simulator itself: the simulator runs as its own process (one core,
 * single-threaded, as in every benchmark); this process sweeps 7-day windows of the three streams
 * with 100-record pages over keep-alive connections for a fixed time and reports pages/s, pages per
 * CPU-second of the simulator, and its resident memory.
 *
 *   npm run bench -w orchestra-api-simulator -- [--records 1000000] [--seconds 10] [--in-flight 8]
 *
 * (from the repository root; `npm run bench -- ...` inside simulator/). It builds the simulator first.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const KEY = 'bench-key';
const START = '2026-03-02T12:00:00Z';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

function procStat(pid: number): {
  cpuS: number;
  userS: number;
  sysS: number;
  rssMb: number;
  hwmMb: number;
} {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const userS = Number(fields[11]) / 100;
  const sysS = Number(fields[12]) / 100;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuS: ticks / 100, userS, sysS, rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

function request(agent: http.Agent, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers: { Authorization: `Bearer ${KEY}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function main(): Promise<void> {
  const records = arg('records', 1_000_000);
  const seconds = arg('seconds', 10);
  const inFlight = arg('in-flight', 8);
  // Compiled to simulator/bench/lib/, so the simulator's CLI is two folders up.
  const cliPath = path.join(__dirname, '..', '..', 'lib', 'cli.js');
  const t0 = Date.now();
  const child = spawn(
    process.execPath,
    [
      cliPath,
      '--port',
      '0',
      '--records',
      String(records),
      '--clock',
      'manual',
      '--start',
      START,
      '--api-key',
      KEY,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const base = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl).replace('listening on ', ''));
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const startupS = (Date.now() - t0) / 1000;
  const pid = child.pid ?? 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  const to = new Date(START);
  const from = new Date(to.getTime() - 7 * 86400000);
  const win = `time_from=${encodeURIComponent(from.toISOString())}&time_to=${encodeURIComponent(to.toISOString())}`;
  const plan: string[] = [];
  const totals: Record<string, number> = {};
  for (const s of ['pipeline_runs', 'task_runs', 'operations']) {
    const first = await request(agent, `${base}/${s}?page_size=100&page=1&${win}`);
    const total = (JSON.parse(first.body) as { total: number }).total;
    totals[s] = total;
    for (let p = 1; p <= Math.ceil(total / 100); p++)
      plan.push(`${base}/${s}?page_size=100&page=${p}&${win}`);
  }
  const before = procStat(pid);
  const deadline = Date.now() + seconds * 1000;
  let pages = 0;
  let bytes = 0;
  let next = 0;
  let errors = 0;
  const started = Date.now();
  const clientBefore = process.cpuUsage();
  // One-second samples: on a shared machine the best and median seconds say more than the mean.
  const samples: { pages: number; cpu: number }[] = [];
  let lastPages = 0;
  let lastCpu = before.cpuS;
  const sampler = setInterval(() => {
    const cpu = procStat(pid).cpuS;
    samples.push({ pages: pages - lastPages, cpu: cpu - lastCpu });
    lastPages = pages;
    lastCpu = cpu;
  }, 1000);
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < deadline) {
        const url = plan[next++ % plan.length];
        const r = await request(agent, url);
        if (r.status !== 200) errors++;
        pages++;
        bytes += r.body.length;
      }
    }),
  );
  clearInterval(sampler);
  const wallS = (Date.now() - started) / 1000;
  const perCpu = samples
    .filter((x) => x.cpu > 0.2)
    .map((x) => x.pages / x.cpu)
    .sort((a, b) => a - b);
  const perSecond = samples.map((x) => x.pages).sort((a, b) => a - b);
  const cu = process.cpuUsage(clientBefore);
  const clientCpu = (cu.user + cu.system) / 1e6;
  const after = procStat(pid);
  child.kill('SIGTERM');
  agent.destroy();
  const simCpu = after.cpuS - before.cpuS;
  const result = {
    records_target: records,
    records_in_windows: totals,
    startup_s: startupS,
    in_flight: inFlight,
    pages,
    errors,
    wall_s: wallS,
    pages_per_s: Math.round(pages / wallS),
    simulator_cpu_s: simCpu,
    simulator_user_s: Math.round((after.userS - before.userS) * 100) / 100,
    simulator_sys_s: Math.round((after.sysS - before.sysS) * 100) / 100,
    client_cpu_s: Math.round(clientCpu * 100) / 100,
    pages_per_simulator_cpu_s: Math.round(pages / simCpu),
    pages_per_simulator_cpu_s_median_second: Math.round(perCpu[Math.floor(perCpu.length / 2)] ?? 0),
    pages_per_simulator_cpu_s_best_second: Math.round(perCpu[perCpu.length - 1] ?? 0),
    pages_per_s_best_second: perSecond[perSecond.length - 1] ?? 0,
    mb_per_s: Math.round(bytes / wallS / 1e6),
    simulator_rss_mb: Math.round(after.rssMb),
    simulator_peak_rss_mb: Math.round(after.hwmMb),
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
