/**
 * `npm run demo`: a full sync then an incremental sync through the real connector (`bin/main read`,
 * as Airbyte runs it), with progress on stderr and a summary at the end. Without ORCHESTRA_API_KEY
 * it starts the simulator package in-process (simulated clock, two hours pass between the syncs);
 * with it, it reads the real API (ORCHESTRA_API_URL overrides the URL). Records are counted, not
 * stored. Needs `npm run build` (the npm script does it).
 */
import { spawn } from 'child_process';
import { once } from 'events';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Writable } from 'stream';

const STREAMS = ['pipeline_runs', 'task_runs', 'operations'];
const HOUR_MS = 3_600_000;
const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

interface SyncResult {
  records: Record<string, number>;
  states: Record<string, unknown>;
  seconds: number;
  failed: boolean;
}

/** Reads the connector's stdout lines as they come: counts records, shows logs and checkpoints. */
class ProgressSink extends Writable {
  records: Record<string, number> = {};
  states: Record<string, unknown> = {};
  errors: string[] = [];
  private rest = '';

  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    const lines = (this.rest + chunk.toString('utf8')).split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.line(line);
    done();
  }

  private line(line: string): void {
    if (line.startsWith('{"type":"RECORD"')) {
      const stream = /"stream":"([a-z_]+)"/.exec(line)?.[1] ?? '?';
      this.records[stream] = (this.records[stream] ?? 0) + 1;
      return;
    }
    const msg = JSON.parse(line) as Record<string, Record<string, unknown>>;
    if (msg.type === ('LOG' as never)) {
      say(`  ${String(msg.log.level).padEnd(5)} ${String(msg.log.message)}`);
    } else if (msg.type === ('STATE' as never)) {
      const stream = msg.state.stream as {
        stream_descriptor: { name: string };
        stream_state: unknown;
      };
      this.states[stream.stream_descriptor.name] = stream.stream_state;
    } else if (msg.type === ('TRACE' as never) && msg.trace.type === 'ERROR') {
      const error = msg.trace.error as { message: string };
      this.errors.push(error.message);
      say(`  ERROR ${error.message}`);
    }
  }
}

/** bin/main, seen from the compiled demo (lib/scripts/demo.js). */
const MAIN = path.resolve(__dirname, '..', '..', 'bin', 'main');

async function sync(config: Record<string, unknown>, state: unknown[]): Promise<SyncResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orchestra-demo-'));
  const file = (name: string, content: unknown): string => {
    const p = path.join(dir, name);
    // The config holds the API key: readable by this user only, removed below.
    fs.writeFileSync(p, JSON.stringify(content), { mode: 0o600 });
    return p;
  };
  const catalog = {
    streams: STREAMS.map((name) => ({
      stream: { name, json_schema: {}, supported_sync_modes: ['full_refresh', 'incremental'] },
      sync_mode: 'incremental',
      destination_sync_mode: 'append_dedup',
    })),
  };
  const args = ['read', '--config', file('config.json', config)];
  args.push('--catalog', file('catalog.json', catalog), '--state', file('state.json', state));
  const sink = new ProgressSink();
  const started = Date.now();
  try {
    const child = spawn(process.execPath, [MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.pipe(sink);
    const [[code]] = await Promise.all([once(child, 'close'), once(sink, 'finish')]);
    return {
      records: sink.records,
      states: sink.states,
      seconds: (Date.now() - started) / 1000,
      failed: code !== 0,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function asState(states: Record<string, unknown>): unknown[] {
  return Object.entries(states).map(([name, streamState]) => ({
    type: 'STREAM',
    stream: { stream_descriptor: { name }, stream_state: streamState },
  }));
}

function summary(title: string, result: SyncResult): void {
  say(`\n${title}: ${result.failed ? 'FAILED' : 'done'} in ${result.seconds.toFixed(1)} s`);
  for (const stream of STREAMS) {
    const state = JSON.stringify(result.states[stream] ?? null);
    say(
      `  ${stream.padEnd(14)} ${String(result.records[stream] ?? 0).padStart(7)} records   state ${state}`,
    );
  }
}

async function main(): Promise<void> {
  const key = process.env.ORCHESTRA_API_KEY;
  let config: Record<string, unknown>;
  let advance: (ms: number) => void = () => undefined;
  let close = async (): Promise<void> => undefined;
  if (key) {
    say('Reading the Orchestra API with ORCHESTRA_API_KEY (the key is never printed).');
    config = {
      api_key: key,
      ...(process.env.ORCHESTRA_API_URL ? { api_url: process.env.ORCHESTRA_API_URL } : {}),
    };
  } else {
    // Loaded only here: with a key the demo needs no simulator.
    const { startSimulator } = await import('orchestra-api-simulator');
    const sim = await startSimulator({ seed: 1, scenario: 'calm', clock: 'manual', records: 5000 });
    say(
      `No ORCHESTRA_API_KEY: using the simulator at ${sim.baseUrl} (simulated now ${sim.clock.now().toISOString()}).`,
    );
    // The simulator has no rate limit; the real API's budget (50/min by default) would only slow the demo.
    config = {
      api_key: 'simulator-key',
      api_url: sim.baseUrl,
      requests_per_minute: 6000,
      pages_in_flight: 4,
    };
    advance = (ms) => sim.clock.advance(ms);
    close = () => sim.close();
  }
  try {
    say('\n== Full sync (no state: everything the API still serves)');
    const full = await sync(config, []);
    summary('Full sync', full);
    advance(2 * HOUR_MS);
    say(`\n== Incremental sync from the saved state${key ? '' : ' (two simulated hours later)'}`);
    const incremental = await sync(config, asState(full.states));
    summary('Incremental sync', incremental);
    if (full.failed || incremental.failed) process.exitCode = 1;
  } finally {
    await close();
  }
}

main().catch((err: Error) => {
  say(`demo failed: ${err.message}`);
  process.exitCode = 1;
});
