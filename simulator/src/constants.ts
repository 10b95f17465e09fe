/** Units and enumerations shared by the world model and the serializers. Times are integer µs. */

export const US_PER_SECOND = 1_000_000;
export const US_PER_HOUR = 3600 * US_PER_SECOND;
export const US_PER_DAY = 24 * US_PER_HOUR;
/** Schedules are anchored here, so a run's identity does not depend on the simulator's start. */
export const EPOCH_US = Date.UTC(2020, 0, 1) * 1000;

/** Kinds of ids: each has its own keyed permutation. */
export const KIND = {
  pipelineRun: 1,
  taskRun: 2,
  operation: 3,
  pipeline: 4,
  environment: 5,
  account: 6,
} as const;

export const PIPELINE_STATUSES = [
  'CREATED',
  'RUNNING',
  'SUCCEEDED',
  'WARNING',
  'FAILED',
  'SKIPPED',
  'CANCELLING',
  'CANCELLED',
] as const;
export const TASK_STATUSES = [
  'CREATED',
  'SKIPPED',
  'QUEUED',
  'RUNNING',
  'SUCCEEDED',
  'WARNING',
  'FAILED',
  'CANCELLING',
  'CANCELLED',
] as const;
export const OPERATION_STATUSES = [
  'CANCELLED',
  'FAILED',
  'REUSED',
  'SKIPPED',
  'SUCCEEDED',
  'UNKNOWN',
  'WARNING',
] as const;

export type StreamName = 'pipeline_runs' | 'task_runs' | 'operations';
export const STREAMS: StreamName[] = ['pipeline_runs', 'task_runs', 'operations'];
