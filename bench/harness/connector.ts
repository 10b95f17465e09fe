/** Runs our connector (`bin/main read`) against a simulator, with config and catalog files. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { MeasuredRun, RunOptions, runMeasured } from './child';
import { CONNECTOR_MAIN, ROOT } from './paths';
import { Simulator } from './simulator';

export const STREAMS = ['pipeline_runs', 'task_runs', 'operations'] as const;

export interface ConnectorRunOptions {
  /** Config overrides on top of api_key and api_url (e.g. pages_in_flight, start_date). */
  config?: Record<string, unknown>;
  syncMode?: 'full_refresh' | 'incremental';
  /** State to resume from: the per-stream STATE messages' `state` objects from an earlier run. */
  state?: unknown[];
  timeoutMs?: number;
  /** Extra arguments before `bin/main`, e.g. ['--cpu-prof']. */
  nodeArgs?: string[];
  onChunk?: RunOptions['onChunk'];
}

interface DiscoveredStream {
  name: string;
  json_schema: unknown;
  supported_sync_modes: string[];
  source_defined_cursor?: boolean;
  default_cursor_field?: string[];
  source_defined_primary_key?: string[][];
}

let workDir: string | undefined;
function tmp(): string {
  workDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'orchestra-bench-'));
  return workDir;
}

let discovered: DiscoveredStream[] | undefined;

/** The catalog as our connector discovers it (needs no network: the schemas are static). */
function discover(configPath: string): DiscoveredStream[] {
  if (discovered) return discovered;
  const out = execFileSync('node', [CONNECTOR_MAIN, 'discover', '--config', configPath], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line) as { type: string; catalog?: { streams: DiscoveredStream[] } };
    if (message.type === 'CATALOG' && message.catalog) {
      discovered = message.catalog.streams;
      return discovered;
    }
  }
  throw new Error(`bin/main discover printed no CATALOG: ${out.slice(0, 500)}`);
}

export function connectorConfig(sim: Simulator, overrides: Record<string, unknown> = {}) {
  return {
    api_key: sim.apiKey,
    api_url: sim.baseUrl,
    // Throughput cases must not be paced: the rate-limit case sets its own budget.
    requests_per_minute: 100000,
    ...overrides,
  };
}

export async function runConnector(
  sim: Simulator,
  options: ConnectorRunOptions = {},
): Promise<MeasuredRun> {
  const dir = tmp();
  const id = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const configPath = path.join(dir, `config-${id}.json`);
  fs.writeFileSync(configPath, JSON.stringify(connectorConfig(sim, options.config)));
  const syncMode = options.syncMode ?? 'full_refresh';
  const catalog = {
    streams: discover(configPath).map((stream) => ({
      stream,
      sync_mode: syncMode,
      destination_sync_mode: syncMode === 'incremental' ? 'append_dedup' : 'overwrite',
      cursor_field: stream.default_cursor_field,
      primary_key: stream.source_defined_primary_key ?? [['id']],
    })),
  };
  const catalogPath = path.join(dir, `catalog-${id}.json`);
  fs.writeFileSync(catalogPath, JSON.stringify(catalog));
  // Run bin/main as users do (its shebang sets Node's flags); with extra Node flags (a profile),
  // through node with the shebang's flag added.
  const nodeArgs = options.nodeArgs ?? [];
  const command = nodeArgs.length > 0 ? 'node' : CONNECTOR_MAIN;
  const args =
    nodeArgs.length > 0
      ? [...nodeArgs, '--max-semi-space-size=4', CONNECTOR_MAIN, 'read']
      : ['read'];
  args.push('--config', configPath, '--catalog', catalogPath);
  if (options.state) {
    const statePath = path.join(dir, `state-${id}.json`);
    fs.writeFileSync(statePath, JSON.stringify(options.state));
    args.push('--state', statePath);
  }
  try {
    return await runMeasured(command, args, {
      cwd: ROOT,
      timeoutMs: options.timeoutMs ?? 30 * 60_000,
      onChunk: options.onChunk,
    });
  } finally {
    for (const file of [configPath, catalogPath]) fs.rmSync(file, { force: true });
  }
}

/** The per-stream STATE objects from a run, in the array form Airbyte passes back with --state. */
export function stateFrom(run: MeasuredRun): unknown[] {
  return Object.values(run.lines.lastStateByStream);
}

export function cleanupConnectorFiles(): void {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
}
