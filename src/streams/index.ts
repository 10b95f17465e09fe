import { Operations } from './operations';
import { PipelineRuns } from './pipeline_runs';
import { streamDefinitions } from './registry';
import { OrchestraStream, StreamContext } from './stream';
import { TaskRuns } from './task_runs';

export { OrchestraStream, StreamContext };

/** Streams with a class of their own; every other registry entry is served as declared. */
const CLASSES: Record<string, new (ctx: StreamContext) => OrchestraStream> = {
  pipeline_runs: PipelineRuns,
  task_runs: TaskRuns,
  operations: Operations,
};

/** A stream that is exactly its registry entry and schema (docs/adding-a-stream.md). */
class DeclaredStream extends OrchestraStream {}

/** One stream per entry of resources/streams.json, in the registry's order. */
export function allStreams(ctx: StreamContext): OrchestraStream[] {
  return streamDefinitions().map((d) => {
    const Class = CLASSES[d.name];
    return Class ? new Class(ctx) : new DeclaredStream(ctx, d.name);
  });
}
