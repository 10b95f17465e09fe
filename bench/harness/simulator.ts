/**
 * The Orchestra simulator as a separate process (as the real API would be), driven through its CLI
 * and its control API (/_sim/...). Its CPU time is read from /proc so a report can tell when the
 * simulator, not the connector, was the bottleneck.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createInterface } from 'node:readline';

import { SIMULATOR_CLI } from './paths';

export interface SimulatorOptions {
  records: number;
  seed?: number;
  scenario?: string;
  clock?: 'manual' | 'wall';
  start?: string;
  rateLimit?: number;
  apiKey?: string;
  extraArgs?: string[];
}

export interface Simulator {
  /** The public API base, e.g. http://127.0.0.1:1234/api/engine/public */
  baseUrl: string;
  origin: string;
  pid: number;
  apiKey: string;
  control<T>(method: 'GET' | 'POST', pathAndQuery: string, body?: unknown): Promise<T>;
  now(): Promise<string>;
  advance(ms: number): Promise<string>;
  stats(): Promise<Record<string, unknown>>;
  /** CPU seconds (user + system) the simulator process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export const SIM_KEY = 'bench-simulator-key';
const CLK_TCK = 100;

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const apiKey = options.apiKey ?? SIM_KEY;
  const args = [
    SIMULATOR_CLI,
    '--port',
    '0',
    '--seed',
    String(options.seed ?? 42),
    '--scenario',
    options.scenario ?? 'calm',
    '--clock',
    options.clock ?? 'manual',
    '--records',
    String(options.records),
    '--api-key',
    apiKey,
  ];
  if (options.start) args.push('--start', options.start);
  if (options.rateLimit !== undefined) args.push('--rate-limit', String(options.rateLimit));
  args.push(...(options.extraArgs ?? []));
  // The simulator holds every record in memory; 1M records need more than Node's default heap.
  const child = spawn('node', ['--max-old-space-size=8192', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const baseUrl = await firstLine(child, () => stderr);
  const origin = new URL(baseUrl).origin;

  async function control<T>(
    method: 'GET' | 'POST',
    pathAndQuery: string,
    body?: unknown,
  ): Promise<T> {
    const response = await fetch(`${origin}${pathAndQuery}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`simulator ${method} ${pathAndQuery} answered ${response.status}: ${text}`);
    }
    return JSON.parse(text) as T;
  }

  return {
    baseUrl,
    origin,
    pid: child.pid ?? -1,
    apiKey,
    control,
    now: async () => (await control<{ now: string }>('GET', '/_sim/now')).now,
    advance: async (ms: number) =>
      (await control<{ now: string }>('POST', `/_sim/advance?ms=${Math.round(ms)}`)).now,
    stats: () => control<Record<string, unknown>>('GET', '/_sim/stats'),
    cpuSeconds: () => processCpuSeconds(child.pid ?? -1),
    stop: () => stop(child),
  };
}

function firstLine(child: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`simulator did not start within 300 s: ${stderr()}`));
    }, 300_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const match = /listening on (http\S+)/.exec(line);
      if (!match) reject(new Error(`unexpected first line from the simulator: ${line}`));
      else resolve(match[1]);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited with ${code} before listening: ${stderr()}`));
    });
  });
}

function processCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state (field 3).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}
