import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Writable } from 'stream';

import { Sleep } from '../../src/client/budget';
import { RetryOptions } from '../../src/client/retry';
import { OrchestraConfig, parseConfig } from '../../src/config';
import { ConnectorLogger, emit } from '../../src/protocol/commands';
import { Output } from '../../src/protocol/output';
import { OrchestraSource } from '../../src/source';
import { Msg, parseLines } from './messages';

export const ROOT = path.resolve(__dirname, '..', '..');
export const STREAMS = ['pipeline_runs', 'task_runs', 'operations'] as const;

/** Collects everything written to it, like a pipe to the Airbyte platform. */
export class MemorySink extends Writable {
  private chunks: string[] = [];
  override _write(chunk: Buffer | string, _enc: string, cb: () => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  text(): string {
    return this.chunks.join('');
  }
}

export function catalogFor(
  mode: 'incremental' | 'full_refresh',
  streams: readonly string[] = STREAMS,
): object {
  return {
    streams: streams.map((name) => ({
      stream: {
        name,
        json_schema: {},
        supported_sync_modes: ['full_refresh', 'incremental'],
      },
      sync_mode: mode,
      destination_sync_mode: mode === 'incremental' ? 'append_dedup' : 'overwrite',
      primary_key: [['id']],
    })),
  };
}

export interface InProcessOptions {
  mode?: 'incremental' | 'full_refresh';
  streams?: readonly string[];
  retry?: Partial<RetryOptions>;
  sleep?: Sleep;
}

export interface SyncResult {
  messages: Msg[];
  failed: boolean;
}

/**
 * One `read` through the real source, in this process: the same code path as bin/main from the
 * parsed config onwards, with the option to shorten retry delays. Output is the real serialiser.
 */
export async function syncInProcess(
  config: Partial<OrchestraConfig> & { api_url: string },
  state: unknown,
  options: InProcessOptions = {},
): Promise<SyncResult> {
  const sink = new MemorySink();
  const out = new Output(sink);
  const logger = new ConnectorLogger(out);
  const source = new OrchestraSource(logger, { retry: options.retry, sleep: options.sleep });
  const parsed = parseConfig({ api_key: 'simulator-key', ...config });
  let failed = false;
  try {
    const catalog = catalogFor(options.mode ?? 'incremental', options.streams);
    for await (const msg of source.read(parsed, {}, catalog as never, state as never)) {
      emit(out, msg);
    }
  } catch {
    failed = true;
  } finally {
    source.close();
    await out.end();
  }
  return { messages: parseLines(sink.text()), failed };
}

export interface MainResult {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
  messages: Msg[];
}

/** Runs the real bin/main as a subprocess (build first: it loads lib/). */
export function runMain(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    killAfterLines?: (line: string) => boolean;
  } = {},
): Promise<MainResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'main'), ...args], {
      cwd: ROOT,
      env: options.env ?? { ...process.env, WORKER_JOB_ID: undefined },
    });
    let stdout = '';
    let stderr = '';
    let seen = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (options.killAfterLines && !child.killed) {
        // Each complete line is offered once, in order.
        const lines = stdout.split('\n').slice(0, -1);
        for (; seen < lines.length; seen++) {
          if (options.killAfterLines(lines[seen])) {
            child.kill('SIGKILL');
            break;
          }
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter((l) => l.length > 0);
      // A killed process may leave a half-written last line: keep every complete message.
      const complete = stdout.endsWith('\n')
        ? stdout
        : stdout.slice(0, stdout.lastIndexOf('\n') + 1);
      let messages: Msg[] = [];
      try {
        messages = parseLines(complete);
      } catch {
        messages = [];
      }
      resolve({ code, stdout, stderr, lines, messages });
    });
  });
}

/** A temporary folder with the given JSON (or raw text) files; returns their paths by name. */
export function writeFiles(files: Record<string, unknown>): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orchestra-test-'));
  const paths: Record<string, string> = {};
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    paths[name] = file;
  }
  return paths;
}

/** Builds lib/ once per jest worker when it is missing or older than src/ (CI builds first). */
export function ensureBuilt(): void {
  const lib = path.join(ROOT, 'lib', 'index.js');
  if (!fs.existsSync(lib)) {
    throw new Error('lib/ is missing: run `npm run build` before the conformance tests');
  }
}
