import { OrchestraStream, StreamContext } from './stream';

/** GET /pipeline_runs: filters pipeline_ids and environments; re-fetch by pipeline_run_ids. */
export class PipelineRuns extends OrchestraStream {
  constructor(ctx: StreamContext) {
    super(ctx, 'pipeline_runs');
  }
}
