/** Tables for stdout and the JSON written next to them, with the machine they were measured on. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { ROOT } from './paths';

export type Cell = string | number | null;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
  notes?: string[];
}

export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return String(value);
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function renderTable(table: Table): string {
  const cells = table.rows.map((row) => row.map((cell) => (cell === null ? '-' : String(cell))));
  const widths = table.columns.map((name, i) =>
    Math.max(name.length, ...cells.map((row) => (row[i] ?? '').length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [`## ${table.title}`, line(table.columns), line(widths.map((w) => '-'.repeat(w)))];
  out.push(...cells.map(line));
  for (const note of table.notes ?? []) out.push(`  ${note}`);
  return out.join('\n');
}

function tryRun(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    return null;
  }
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memory_gb: number;
  os: string;
  node: string;
  python: string | null;
  commit: string | null;
  load_average_at_start: number[];
}

export function machineInfo(): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    python: tryRun('python3', ['--version']),
    commit: tryRun('git', ['rev-parse', '--short', 'HEAD']),
    load_average_at_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function describeMachine(info: MachineInfo): string {
  return (
    `${info.cpu}, ${info.cores} cores, ${info.memory_gb} GB RAM, ${info.os}, Node ${info.node}, ` +
    `${info.python ?? 'no python3'}, commit ${info.commit ?? '?'}, ` +
    `load average at start ${info.load_average_at_start.join(' ')}`
  );
}

export function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(temporary, file);
}

/** Waits until the 1-minute load average is under `limit` (other jobs skew timings), up to maxMs. */
export async function waitForQuiet(
  limit: number,
  maxMs: number,
  log: (line: string) => void,
): Promise<number> {
  const deadline = Date.now() + maxMs;
  let load = os.loadavg()[0];
  while (load >= limit && Date.now() < deadline) {
    log(`load average ${load.toFixed(2)} >= ${limit}: waiting for the machine to be quiet...`);
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    load = os.loadavg()[0];
  }
  return load;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
