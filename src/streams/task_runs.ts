import { QueryParams } from '../client/client';
import { OrchestraStream, StreamContext } from './stream';

/** GET /task_runs: filters pipeline_ids and include_superseded; re-fetch by task_run_ids. */
export class TaskRuns extends OrchestraStream {
  constructor(ctx: StreamContext) {
    super(ctx, 'task_runs');
  }

  /**
   * A task run seen unfinished may be retried meanwhile; its attempt then becomes "superseded" and
   * is hidden by default. Asking for it by id must still return its final state.
   */
  override refetchParams(): QueryParams {
    return { include_superseded: 'true' };
  }
}
