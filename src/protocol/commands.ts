import { Command } from 'commander';
import { AirbyteLogger, AirbyteLogLevel, AirbyteMessage, AirbyteState } from '../cdk';

import { makeRedactor } from '../client/errors';
import { OrchestraConfig, parseConfig } from '../config';
import { FailureType, failureTypeOf, messageOf, SystemError } from '../errors';
import type { OrchestraSource } from '../source';
import { readJsonFile } from './files';
import { connectionStatus, errorTrace } from './messages';
import { Output } from './output';
import { ObjectMessage, RecordBytes, SerialisedLines, StreamsFailed } from './read';

const LEVEL_ORDER: Record<string, number> = {
  TRACE: 0,
  DEBUG: 1,
  INFO: 2,
  WARN: 3,
  ERROR: 4,
  FATAL: 5,
};

/**
 * The CDK's logger API, writing through our Output: the CDK's own writer rewrites log levels when
 * WORKER_JOB_ID is set, and its source logger adds STATE messages carrying logs.
 */
export class ConnectorLogger extends AirbyteLogger {
  constructor(
    private readonly out: Output,
    level?: AirbyteLogLevel,
  ) {
    super(level);
  }

  override write(msg: AirbyteMessage): Promise<void> {
    const log = (msg as { log?: { level: string } }).log;
    if (log && (LEVEL_ORDER[log.level] ?? 2) < (LEVEL_ORDER[this.level] ?? 2)) {
      return Promise.resolve();
    }
    emit(this.out, msg);
    return this.out.ready() ?? Promise.resolve();
  }
}

export function emit(out: Output, msg: AirbyteMessage): void {
  if (msg instanceof RecordBytes) {
    out.recordBytes(msg.bytes);
  } else if (msg instanceof SerialisedLines) {
    if (msg.type === 'RECORD') out.recordLine(msg.text);
    else out.rawLine(msg.text);
  } else if (msg instanceof ObjectMessage) {
    out.message(msg.body);
  } else {
    out.message(msg);
  }
}

/**
 * spec | check | discover | read, owned here rather than by the CDK's runner: the runner exits 0
 * after failed streams, loads files with require(), compresses state and adds Faros messages.
 */
export function buildProgram(source: OrchestraSource, out: Output): Command {
  const program = new Command()
    .name('source-orchestra')
    .description("Airbyte source for Orchestra's run metadata");

  program
    .command('spec')
    .description('print the connector specification')
    .action(async () => {
      out.message(await source.spec());
      await out.end();
    });

  program
    .command('check')
    .description('check that the config can read from Orchestra')
    .requiredOption('--config <file>', 'config JSON file')
    .action(async (opts: { config: string }) => {
      // As Airbyte's Python CDK (AirbyteEntrypoint.check) and platform expect: a problem the user
      // must fix (key, access, URL, a config field) is the check's answer, one CONNECTION_STATUS
      // FAILED with the message and exit 0, which the UI shows as the failed test's reason. Only
      // an unexpected failure (the API down, retries exhausted, a bug) is an ERROR trace with its
      // failure type and a non-zero exit, the platform's signal that the check itself failed.
      const fail = (message: string, failureType: FailureType): void => {
        if (failureType === 'config_error') {
          out.message(connectionStatus(false, message));
          return;
        }
        out.message(errorTrace(message, failureType));
        process.exitCode = 1;
      };
      try {
        const raw = readJsonFile(opts.config, 'config');
        out.setRedactor(redactorFor(raw));
        const result = await source.checkConfig(raw);
        if (result.ok) out.message(connectionStatus(true));
        else fail(result.message, result.failureType);
      } catch (err) {
        fail(messageOf(err), failureTypeOf(err));
      } finally {
        source.close();
        await out.end();
      }
    });

  program
    .command('discover')
    .description('print the catalog of streams')
    .requiredOption('--config <file>', 'config JSON file')
    .action(async (opts: { config: string }) => {
      await run(source, out, async () => {
        const config = loadConfig(opts.config, out);
        out.message(await source.discover(config));
      });
    });

  program
    .command('read')
    .description('read records, emitting state checkpoints')
    .requiredOption('--config <file>', 'config JSON file')
    .requiredOption('--catalog <file>', 'configured catalog JSON file')
    .option('--state <file>', 'state JSON file')
    .action(async (opts: { config: string; catalog: string; state?: string }) => {
      await run(source, out, async () => {
        const config = loadConfig(opts.config, out);
        const catalog = readJsonFile(opts.catalog, 'catalog');
        const state = opts.state ? readJsonFile(opts.state, 'state') : [];
        const messages = source.read(config, {}, catalog as never, state as AirbyteState);
        for await (const msg of messages) {
          emit(out, msg);
          const ready = out.ready();
          if (ready) await ready;
          if (out.closed) {
            // Nobody reads the records any more: stop instead of syncing into the void.
            throw new SystemError(`stdout was closed (${out.closed.message}): stopping the sync`);
          }
        }
      });
    });

  return program;
}

function loadConfig(file: string, out: Output): OrchestraConfig {
  const raw = readJsonFile(file, 'config');
  out.setRedactor(redactorFor(raw));
  return parseConfig(raw);
}

/** Redacts the configured key even when the rest of the config is invalid. */
function redactorFor(raw: unknown): (text: string) => string {
  const key = (raw as { api_key?: unknown } | null)?.api_key;
  return makeRedactor([typeof key === 'string' ? key : undefined]);
}

/** Runs a command; any failure is one TRACE error and exit code 1. */
async function run(source: OrchestraSource, out: Output, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (!(err instanceof StreamsFailed)) {
      out.message(
        errorTrace(messageOf(err), failureTypeOf(err), {
          internal: (err as Error)?.name,
          stack: (err as Error)?.stack,
        }),
      );
    }
    process.exitCode = 1;
  } finally {
    source.close();
    await out.end();
  }
}
