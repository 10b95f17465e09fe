import { Operations } from './operations';
import { PipelineRuns } from './pipeline_runs';
import { OrchestraStream, StreamContext } from './stream';
import { TaskRuns } from './task_runs';

export { OrchestraStream, StreamContext };

export function allStreams(ctx: StreamContext): OrchestraStream[] {
  return [new PipelineRuns(ctx), new TaskRuns(ctx), new Operations(ctx)];
}
