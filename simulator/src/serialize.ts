/**
 * Records as the API sends them (camelCase JSON, in the OpenAPI's property order), written straight
 * into byte buffers by one writer per stream (serialize-runs/-tasks/-ops.ts). The same writers serve
 * the list endpoints and the ground truth, so the two cannot disagree.
 */
import { ByteWriter } from './bytes';
import { StreamName } from './constants';
import { OptionalMode } from './options';
import { OperationWriter } from './serialize-ops';
import { PipelineRunWriter } from './serialize-runs';
import { TaskRunWriter } from './serialize-tasks';
import { World } from './world';

export { isoUs } from './bytes';
export { externalId } from './serialize-ops';

export class Serializer {
  private readonly w = new ByteWriter();
  private readonly runs: PipelineRunWriter;
  private readonly tasks: TaskRunWriter;
  private readonly ops: OperationWriter;

  constructor(world: World, optional: OptionalMode) {
    this.runs = new PipelineRunWriter(world, optional);
    this.tasks = new TaskRunWriter(world, optional);
    this.ops = new OperationWriter(world, optional);
  }

  /** The record as a string (truth, filters). */
  record(stream: StreamName, i: number, now: number): string {
    const w = this.w;
    w.reset();
    this.write(w, stream, i, now);
    return w.toString();
  }

  write(w: ByteWriter, stream: StreamName, i: number, now: number): void {
    if (stream === 'pipeline_runs') this.runs.write(w, i, now);
    else if (stream === 'task_runs') this.tasks.write(w, i, now);
    else this.ops.write(w, i);
  }
}
