/**
 * Runs a connector as a real subprocess, reads its stdout through a real pipe, and measures it:
 * wall time, CPU time and the kernel's peak RSS (via rusage.py, since Node cannot see a child's
 * rusage).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { Readable } from 'node:stream';

import { AirbyteLineCounter, LineStats } from './airbyte-lines';
import { RUSAGE_PY } from './paths';

export interface MeasuredRun {
  command: string;
  wallMs: number;
  exitCode: number | null;
  signal: number | null;
  /** Peak RSS of the largest process (exact, from wait4). */
  maxRssMb: number;
  /**
   * Peak RSS of the whole connector process tree (counted whole, should bin/main ever start child processes): the exact peak of the
   * largest process plus the last sampled high-water mark of every other one.
   */
  treeRssMb: number;
  userS: number;
  sysS: number;
  lines: LineStats;
  stderrTail: string;
  timedOut: boolean;
  /** CPU seconds this (the measuring) process spent while the child ran: reading and counting. */
  harnessCpuS: number;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Called for each stdout chunk too, e.g. to save output for inspection. */
  onChunk?: (chunk: Buffer) => void;
}

const STDERR_TAIL = 4000;

interface RusageReport {
  exit: number | null;
  signal: number | null;
  maxrss_kb: number;
  user_s: number;
  sys_s: number;
}

export async function runMeasured(
  command: string,
  args: string[],
  options: RunOptions,
): Promise<MeasuredRun> {
  const counter = new AirbyteLineCounter();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const child = spawn('python3', [RUSAGE_PY, '3', '--', command, ...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    // Its own process group, so a timeout can end the wrapper and the connector together.
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    counter.push(chunk);
    options.onChunk?.(chunk);
  });
  const reportText = readAll(child.stdio[3] as Readable);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  }, options.timeoutMs);
  const hwm = new Map<number, number>();
  const sampler = setInterval(() => sampleTree(child.pid ?? -1, hwm), 100);
  const stdoutDone = new Promise<void>((resolve) => child.stdout?.on('end', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  await stdoutDone;
  clearTimeout(timer);
  clearInterval(sampler);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const text = await reportText;
  let report: RusageReport = { exit: null, signal: 9, maxrss_kb: 0, user_s: 0, sys_s: 0 };
  if (text.trim()) report = JSON.parse(text) as RusageReport;
  return {
    command: [command, ...args].join(' '),
    wallMs,
    exitCode: report.exit,
    signal: report.signal,
    maxRssMb: report.maxrss_kb / 1024,
    treeRssMb: treePeakKb(hwm, report.maxrss_kb) / 1024,
    userS: report.user_s,
    sysS: report.sys_s,
    lines: counter.finish(),
    stderrTail: stderr,
    timedOut,
    harnessCpuS: (cpu.user + cpu.system) / 1e6,
  };
}

/** Records VmHWM (kB) of every descendant of `root` (not root itself: that is rusage.py). */
function sampleTree(root: number, hwm: Map<number, number>): void {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return;
  }
  const parent = new Map<number, number>();
  for (const name of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended between readdir and read.
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) return true;
    }
    return false;
  };
  for (const pid of parent.keys()) {
    if (!inTree(pid)) continue;
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      hwm.set(pid, Math.max(hwm.get(pid) ?? 0, kb));
    } catch {
      // Ended meanwhile.
    }
  }
}

function treePeakKb(hwm: Map<number, number>, exactMaxKb: number): number {
  const peaks = [...hwm.values()].sort((a, b) => b - a);
  if (peaks.length === 0) return exactMaxKb;
  return Math.max(exactMaxKb, peaks[0]) + peaks.slice(1).reduce((a, b) => a + b, 0);
}

function readAll(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    stream.on('data', (part: Buffer) => parts.push(part));
    stream.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    stream.on('error', () => resolve(''));
  });
}

/** One-line description of why a run did not succeed, or null when it did. */
export function failureOf(run: MeasuredRun): string | null {
  if (run.timedOut) return `timed out after ${(run.wallMs / 1000).toFixed(0)} s`;
  if (run.exitCode !== 0) {
    const why = run.lines.traceErrors[0] ?? run.stderrTail.trim().split('\n').slice(-3).join(' | ');
    return `exited with ${run.exitCode ?? `signal ${run.signal}`}: ${why}`;
  }
  if (run.lines.traceErrors.length > 0) return `TRACE error: ${run.lines.traceErrors[0]}`;
  return null;
}
