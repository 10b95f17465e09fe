/**
 * The peer: bench/peers/airbyte-lowcode/manifest.yaml run by the Python airbyte-cdk's
 * `source-declarative-manifest`, in its own virtualenv, created here on first use so the benchmark
 * works from a clean clone.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { MeasuredRun, runMeasured } from './child';
import { STREAMS } from './connector';
import { PEER_DIR } from './paths';
import { Simulator } from './simulator';

const VENV = path.join(PEER_DIR, '.venv');
const REQUIREMENTS = path.join(PEER_DIR, 'requirements.txt');
const MANIFEST = path.join(PEER_DIR, 'manifest.yaml');
const ENTRYPOINT = path.join(VENV, 'bin', 'source-declarative-manifest');
/** Written after a successful install: the hash of requirements.txt it was made from. */
const MARKER = path.join(VENV, '.requirements.sha256');

function requirementsHash(): string {
  return createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).digest('hex');
}

/** Creates or refreshes the peer's virtualenv when requirements.txt changed. Returns its version. */
export function ensurePeer(log: (line: string) => void): string {
  const wanted = requirementsHash();
  const current = fs.existsSync(MARKER) ? fs.readFileSync(MARKER, 'utf8').trim() : '';
  if (current !== wanted || !fs.existsSync(ENTRYPOINT)) {
    log(`creating the peer's virtualenv in ${path.relative(process.cwd(), VENV)} (pip install)...`);
    fs.rmSync(VENV, { recursive: true, force: true });
    execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
    const pip = [path.join(VENV, 'bin', 'pip'), 'install', '-q', '-r', REQUIREMENTS];
    // Other tools may be running pip at the same time on this machine; flock serialises them.
    const useFlock = commandExists('flock');
    execFileSync(useFlock ? 'flock' : pip[0], useFlock ? ['/tmp/pip.lock', ...pip] : pip.slice(1), {
      stdio: 'inherit',
    });
    fs.writeFileSync(MARKER, wanted);
  }
  return execFileSync(
    path.join(VENV, 'bin', 'python'),
    ['-c', 'import importlib.metadata as m; print(m.version("airbyte-cdk"))'],
    { encoding: 'utf8' },
  ).trim();
}

function commandExists(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface PeerRunOptions {
  startDate: string;
  endDate: string;
  numWorkers: number;
  timeoutMs?: number;
}

/** Whole seconds, as the manifest's datetime_format expects. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function runPeer(sim: Simulator, options: PeerRunOptions): Promise<MeasuredRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orchestra-peer-'));
  const configPath = path.join(dir, 'config.json');
  const catalogPath = path.join(dir, 'catalog.json');
  fs.writeFileSync(
    configPath,
    JSON.stringify({
      api_key: sim.apiKey,
      url_base: sim.baseUrl,
      start_date: options.startDate,
      end_date: options.endDate,
      num_workers: options.numWorkers,
    }),
  );
  fs.writeFileSync(
    catalogPath,
    JSON.stringify({
      streams: STREAMS.map((name) => ({
        stream: { name, json_schema: {}, supported_sync_modes: ['full_refresh', 'incremental'] },
        sync_mode: 'full_refresh',
        destination_sync_mode: 'overwrite',
      })),
    }),
  );
  try {
    return await runMeasured(
      ENTRYPOINT,
      ['read', '--manifest-path', MANIFEST, '--config', configPath, '--catalog', catalogPath],
      { cwd: dir, timeoutMs: options.timeoutMs ?? 60 * 60_000 },
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
