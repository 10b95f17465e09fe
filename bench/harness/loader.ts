/**
 * The Snowflake native app's loader through fakesnow: bench/harness/loader_bench.py calls the
 * Python loader (snowflake/app/python) with a Snowpark-like session that runs and counts SQL.
 */
import { execFileSync } from 'node:child_process';

import { LOADER_PY, ROOT } from './paths';

export interface LoaderResult {
  records: number;
  statements: number;
  /** Statements by their first keyword (MERGE, INSERT, CREATE, ...). */
  statements_by_kind: Record<string, number>;
  seconds: number;
  rows_per_s: number;
  rows_in_table: number;
}

export async function loaderCase(
  volumes: number[],
  log: (line: string) => void,
): Promise<LoaderResult[]> {
  const results: LoaderResult[] = [];
  for (const records of volumes) {
    log(`loader: ${records} records through fakesnow...`);
    const out = execFileSync('python3', [LOADER_PY, '--records', String(records)], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 << 20,
    });
    const lastLine = out.trim().split('\n').pop() ?? '{}';
    const result = JSON.parse(lastLine) as LoaderResult;
    log(`  ${result.statements} statements, ${result.rows_per_s} rows/s`);
    results.push(result);
  }
  return results;
}
