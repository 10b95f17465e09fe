import { Command } from 'commander';

import { errorTrace } from './protocol/messages';
import { buildProgram, ConnectorLogger } from './protocol/commands';
import { Output } from './protocol/output';
import { OrchestraSource } from './source';

export { OrchestraSource } from './source';
export { parseConfig } from './config';

/** Entry point of bin/main: the logger, the source and the command program, wired together. */
export function mainCommand(): Command {
  const out = new Output(process.stdout);
  const logger = new ConnectorLogger(out);
  const source = new OrchestraSource(logger);
  const crash = (err: unknown): void => {
    // The reader went away (closed pipe): nothing can be reported on stdout any more.
    if ((err as { code?: string })?.code === 'EPIPE') process.exit(1);
    // A bug or a crash in a dependency: still a protocol TRACE and a non-zero exit.
    const error = err instanceof Error ? err : new Error(String(err));
    out.message(
      errorTrace(`Unexpected error: ${error.message}`, 'system_error', { stack: error.stack }),
    );
    out.flush();
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  return buildProgram(source, out);
}
