/** Paths the benchmark needs, found from the repository root whether run compiled or not. */
import * as fs from 'node:fs';
import * as path from 'node:path';

function findRoot(start: string): string {
  let dir = start;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const ROOT = findRoot(__dirname);
export const BENCH = path.join(ROOT, 'bench');
export const RUSAGE_PY = path.join(BENCH, 'harness', 'rusage.py');
export const LOADER_PY = path.join(BENCH, 'harness', 'loader_bench.py');
export const CONNECTOR_MAIN = path.join(ROOT, 'bin', 'main');
/** The simulator workspace package's CLI, found the way Node finds the package (its build: `npm run build`). */
export const SIMULATOR_CLI = path.join(
  path.dirname(require.resolve('orchestra-api-simulator/package.json')),
  'lib',
  'cli.js',
);
export const PEER_DIR = path.join(BENCH, 'peers', 'airbyte-lowcode');
export const RESULTS_DIR = path.join(BENCH, 'results');
