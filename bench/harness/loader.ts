/**
 * The Snowflake native app's loader through fakesnow: bench/harness/loader_bench.py calls the
 * Python loader (snowflake/app/python) with a Snowpark-like session that runs and counts SQL.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';

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

/** Modules loader_bench.py imports, directly or through the app's test support. */
const LOADER_MODULES = ['fakesnow', 'sqlglot', 'duckdb', 'snowflake.connector', 'requests'];

/**
 * What keeps the loader case from running (python3 or its packages missing), with the command to
 * run, or null. Checked before any case, so the benchmark does not fail minutes later.
 */
export function loaderPythonProblem(): string | null {
  const probe = spawnSync(
    'python3',
    [
      '-c',
      'import importlib.util, sys\n' +
        'missing = [m for m in sys.argv[1:] if importlib.util.find_spec(m.split(".")[0]) is None' +
        ' or importlib.util.find_spec(m) is None]\n' +
        'print(" ".join(missing))\n' +
        'sys.exit(1 if missing or sys.version_info < (3, 11) else 0)',
      ...LOADER_MODULES,
    ],
    // From the script's folder, as loader_bench.py runs: the repository's snowflake/ folder would
    // otherwise pass for the `snowflake` package.
    { cwd: path.dirname(LOADER_PY), encoding: 'utf8' },
  );
  if (probe.error) {
    return (
      'the loader case needs python3 (3.11 or newer) on PATH, then ' +
      '`python3 -m pip install -r requirements-dev.txt`; or leave the case out with ' +
      '`npm run bench -- --only throughput,economy,ratelimit`'
    );
  }
  if (probe.status !== 0) {
    const missing = probe.stdout.trim();
    return (
      (missing
        ? `the loader case needs Python packages missing here (${missing})`
        : 'the loader case needs Python 3.11 or newer') +
      ': run `python3 -m pip install -r requirements-dev.txt`, or leave the case out with ' +
      '`npm run bench -- --only throughput,economy,ratelimit`'
    );
  }
  return null;
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
