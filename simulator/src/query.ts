/**
 * Query-string parsing and validation of the list endpoints, with FastAPI's error shapes: 422
 * `{"detail":[{loc,msg,type,input,ctx}]}` for type/constraint violations, 400 `{"detail":"..."}` for
 * filter values the server understands but rejects. Unknown parameters are ignored, as the real API does.
 */
import {
  KIND,
  OPERATION_STATUSES,
  PIPELINE_STATUSES,
  StreamName,
  TASK_STATUSES,
  US_PER_DAY,
  US_PER_HOUR,
} from './constants';
import { WideWindow } from './options';
import { decodeUuid } from './prng';
import { World } from './world';
import {
  Issues,
  UUID_RE,
  ValidationIssue,
  commaList,
  last,
  parseDateTime,
  parseInt0,
  uuidList,
} from './params';

export type { ValidationIssue } from './params';
export { parseDateTime } from './params';

export interface ApiError {
  status: number;
  body: { detail: string | ValidationIssue[] };
}

export interface ListQuery {
  stream: StreamName;
  page: number;
  pageSize: number;
  /** Inclusive window bounds in µs on the configured window field. */
  from: number;
  to: number;
  statuses?: Set<number>;
  pipelines?: Set<number>;
  runs?: Set<number>;
  environments?: Set<number>;
  integrations?: Set<string>;
  tasks?: Set<number>;
  operationTypes?: Set<string>;
  externalId?: string;
  includeSuperseded: boolean;
  /** For /pipeline_runs/{id}/task_runs: the run; no window applies. */
  parentRun?: number;
  /** Identifies the matching set (not the page), for the result cache. */
  key: string;
}

const BOOL_TRUE = ['true', '1', 'yes', 'on', 't', 'y'];
const BOOL_FALSE = ['false', '0', 'no', 'off', 'f', 'n'];

export interface ParseContext {
  world: World;
  now: number;
  wideWindow: WideWindow;
  /** Index of the pipeline id -> pipeline index. */
  pipelineByUuid: Map<string, number>;
  envByUuid: Map<string, number>;
  integrations: Set<string>;
}

/** Parse a list request. `stream` is the endpoint; `parentRunUuid` is set for /pipeline_runs/{id}/task_runs. */
export function parseListQuery(
  stream: StreamName,
  params: URLSearchParams,
  ctx: ParseContext,
  parentRunUuid?: string,
): ListQuery | ApiError {
  const issues = new Issues();
  const nested = parentRunUuid !== undefined;
  const page = parseInt0(params, 'page', 1, 1, Number.MAX_SAFE_INTEGER, issues);
  const pageSize = nested
    ? parseInt0(params, 'page_size', 10, 1, 50, issues)
    : parseInt0(params, 'page_size', 50, 1, 100, issues);
  const q: ListQuery = {
    stream,
    page,
    pageSize,
    from: 0,
    to: 0,
    includeSuperseded: false,
    key: '',
  };
  const keyParts: string[] = [stream];

  if (nested) {
    if (!UUID_RE.test(parentRunUuid)) {
      issues.list.push({
        type: 'uuid_parsing',
        loc: ['path', 'pipeline_run_id'],
        msg: 'Input should be a valid UUID',
        input: parentRunUuid,
      });
    } else {
      const key = decodeUuid(ctx.world.seed, KIND.pipelineRun, parentRunUuid);
      const idx = key === undefined ? undefined : ctx.world.runByKey.get(key);
      if (
        issues.list.length === 0 &&
        (idx === undefined || ctx.world.runs.created.data[idx] > ctx.now)
      ) {
        return { status: 404, body: { detail: `Pipeline run ${parentRunUuid} not found` } };
      }
      q.parentRun = idx;
      keyParts.push('run=' + idx);
    }
  } else {
    const fromRaw = last(params, 'time_from');
    const toRaw = last(params, 'time_to');
    let from = fromRaw === undefined ? undefined : parseDateTime(fromRaw);
    let to = toRaw === undefined ? undefined : parseDateTime(toRaw);
    for (const [name, raw, v] of [
      ['time_from', fromRaw, from],
      ['time_to', toRaw, to],
    ] as const) {
      if (raw !== undefined && v === undefined) {
        issues.add(
          name,
          'datetime_from_date_parsing',
          'Input should be a valid datetime or date, expected ISO 8601 like 2025-05-01T11:16:39.421992+00:00 (URL-encode "+" as %2B)',
          raw,
        );
      }
    }
    if (issues.list.length === 0) {
      if (from === undefined && to === undefined) {
        // The recent default: 7 days for pipeline runs, 24 hours for task runs and operations.
        to = ctx.now;
        from = ctx.now - (stream === 'pipeline_runs' ? 7 * US_PER_DAY : 24 * US_PER_HOUR);
      } else if (from === undefined || to === undefined) {
        const missing = from === undefined ? 'time_from' : 'time_to';
        issues.add(
          missing,
          'value_error',
          'Value error, time_from and time_to must be provided together',
          null,
        );
      } else if (from > to) {
        issues.add(
          'time_from',
          'value_error',
          'Value error, time_from must be earlier than or equal to time_to',
          fromRaw,
        );
      } else if (to - from > 7 * US_PER_DAY) {
        if (ctx.wideWindow === 'reject') {
          issues.add(
            'time_to',
            'value_error',
            'Value error, the maximum time range per request is 7 days',
            toRaw,
          );
        } else {
          from = to - 7 * US_PER_DAY;
        }
      }
    }
    q.from = from ?? 0;
    q.to = to ?? 0;
    keyParts.push(`w=${q.from},${q.to}`);
  }

  const w = ctx.world;
  const statusNames =
    stream === 'pipeline_runs'
      ? PIPELINE_STATUSES
      : stream === 'task_runs'
        ? TASK_STATUSES
        : OPERATION_STATUSES;
  const statusRaw = last(params, 'status');
  if (stream === 'operations') {
    // A single enum value in the OpenAPI: a list or an unknown value is a validation error.
    if (statusRaw !== undefined && statusRaw !== '') {
      const idx = (OPERATION_STATUSES as readonly string[]).indexOf(statusRaw);
      if (idx < 0) {
        issues.add(
          'status',
          'enum',
          `Input should be ${OPERATION_STATUSES.map((s) => `'${s}'`).join(', ')}`,
          statusRaw,
          { expected: OPERATION_STATUSES.join(', ') },
        );
      } else {
        q.statuses = new Set([idx]);
      }
    }
  } else if (!nested) {
    const items = commaList(statusRaw);
    if (items) {
      const bad = items.filter((s) => !(statusNames as readonly string[]).includes(s));
      if (bad.length && issues.list.length === 0) {
        return {
          status: 400,
          body: {
            detail: `Invalid status value(s): ${bad.join(', ')}. Valid values: ${statusNames.join(', ')}`,
          },
        };
      }
      q.statuses = new Set(items.map((s) => (statusNames as readonly string[]).indexOf(s)));
    }
  }
  if (q.statuses) keyParts.push('s=' + [...q.statuses].sort().join('.'));

  if (stream !== 'operations' && !nested) {
    const ids = uuidList(params, 'pipeline_ids', issues);
    if (ids) {
      q.pipelines = new Set(ids.map((id) => ctx.pipelineByUuid.get(id) ?? -1));
      keyParts.push('p=' + [...q.pipelines].sort().join('.'));
    }
  }
  if (stream === 'pipeline_runs') {
    const runIds = uuidList(params, 'pipeline_run_ids', issues);
    if (runIds) {
      q.runs = new Set(
        runIds.map((id) => {
          const key = decodeUuid(w.seed, KIND.pipelineRun, id);
          return key === undefined ? -1 : (w.runByKey.get(key) ?? -1);
        }),
      );
      keyParts.push('r=' + [...q.runs].sort().join('.'));
    }
    const envIds = uuidList(params, 'environments', issues);
    if (envIds) {
      q.environments = new Set(envIds.map((id) => ctx.envByUuid.get(id) ?? -1));
      keyParts.push('e=' + [...q.environments].sort().join('.'));
    }
  }
  if (stream === 'task_runs') {
    if (!nested) {
      const integ = commaList(last(params, 'integration'));
      if (integ) {
        q.integrations = new Set(integ);
        keyParts.push('i=' + [...integ].sort().join('.'));
      }
      const taskIds = uuidList(params, 'task_run_ids', issues);
      if (taskIds) {
        q.tasks = new Set(taskIds.map((id) => taskIndex(w, id)));
        keyParts.push('t=' + [...q.tasks].sort().join('.'));
      }
    }
    const sup = last(params, 'include_superseded');
    if (sup !== undefined) {
      const v = sup.trim().toLowerCase();
      if (BOOL_TRUE.includes(v)) q.includeSuperseded = true;
      else if (!BOOL_FALSE.includes(v))
        issues.add(
          'include_superseded',
          'bool_parsing',
          'Input should be a valid boolean, unable to interpret input',
          sup,
        );
    }
    keyParts.push('sup=' + q.includeSuperseded);
  }
  if (stream === 'operations') {
    const types = commaList(last(params, 'operation_type'));
    if (types) {
      q.operationTypes = new Set(types);
      keyParts.push('ot=' + [...types].sort().join('.'));
    }
    const integ = last(params, 'integration');
    if (integ !== undefined && integ !== '') {
      if (!ctx.integrations.has(integ)) {
        issues.add('integration', 'enum', 'Input should be a valid IntegrationsEnum member', integ);
      } else {
        q.integrations = new Set([integ]);
        keyParts.push('i=' + integ);
      }
    }
    const trid = last(params, 'task_run_id');
    if (trid !== undefined && trid !== '') {
      if (!UUID_RE.test(trid)) {
        issues.add('task_run_id', 'uuid_parsing', 'Input should be a valid UUID', trid);
      } else {
        q.tasks = new Set([taskIndex(w, trid.toLowerCase())]);
        keyParts.push('t=' + [...q.tasks].join('.'));
      }
    }
    const ext = last(params, 'external_id');
    if (ext !== undefined && ext !== '') {
      q.externalId = ext;
      keyParts.push('x=' + encodeURIComponent(ext));
    }
  }
  if (issues.list.length) return { status: 422, body: { detail: issues.list } };
  q.key = keyParts.join('&');
  return q;
}

/** Task run index for a task run UUID, or -1. */
export function taskIndex(w: World, uuid: string): number {
  const key = decodeUuid(w.seed, KIND.taskRun, uuid);
  if (key === undefined) return -1;
  const run = w.runByKey.get(Math.floor(key / 256));
  if (run === undefined) return -1;
  const first = w.runs.firstTask.data[run];
  const n = w.runs.taskCount.data[run];
  for (let i = first; i < first + n; i++) if (w.taskKey(i) === key) return i;
  return -1;
}

export function isApiError(x: ListQuery | ApiError): x is ApiError {
  return (x as ApiError).status !== undefined;
}
