-- Reliability analytics over the loaded tables: views in schema `analytics`, the per-pipeline SLA
-- limits in config.pipeline_sla and the procedure that sets them. Every metric is defined in words in
-- docs/analytics.md first; the comments here only say how the SQL follows those definitions.
-- Run by setup_script.sql after tables.sql and state.sql on every install and upgrade: views are
-- replaced, the SLA table is created IF NOT EXISTS (an upgrade keeps the limits).
--
-- Portable part: everything above the "app only" line reads only public.pipeline_runs,
-- public.task_runs and public.operations (unquoted names, so the upper-case columns an Airbyte
-- Snowflake destination writes resolve too) and can be run over such tables by replacing the schema
-- names (docs/analytics.md, "Airbyte users"). Tested through fakesnow (snowflake/tests/test_analytics*.py).
--
-- Snowflake constructs chosen because they behave the same in Snowflake and in DuckDB (fakesnow):
-- durations as DATEDIFF('microsecond', ...) / 1e6 (exact for microsecond timestamps), days as
-- TO_DATE(CONVERT_TIMEZONE('UTC', ts)) (UTC whatever offset a TIMESTAMP_TZ carries), the day spine as
-- FLATTEN(ARRAY_GENERATE_RANGE(...)) (a recursive CTE stops at MAX_RECURSIONS, 100 by default:
-- https://docs.snowflake.com/en/user-guide/queries-cte#recursive-ctes-and-hierarchical-data),
-- DATEADD results cast back to DATE (DuckDB returns a timestamp).

CREATE SCHEMA IF NOT EXISTS analytics;
CREATE SCHEMA IF NOT EXISTS config;

-- Per-pipeline limits, set by analytics.set_pipeline_sla (app_admin). A NULL limit is not checked.
CREATE TABLE IF NOT EXISTS config.pipeline_sla (
    pipeline_id VARCHAR NOT NULL,
    max_duration_minutes FLOAT,
    latest_finish_time TIME,
    time_zone VARCHAR,
    updated_at TIMESTAMP_TZ
);

-- One row per pipeline run with its outcome class and, for runs that ran to a result, the duration.
CREATE OR REPLACE VIEW analytics.run_outcomes AS
SELECT
    r.pipeline_id,
    r.pipeline_name,
    r.env_name,
    r.id AS pipeline_run_id,
    r.run_status,
    CASE
        WHEN r.run_status IN ('SUCCEEDED', 'WARNING') THEN 'SUCCEEDED'
        WHEN r.run_status = 'FAILED' THEN 'FAILED'
        WHEN r.run_status = 'CANCELLED' THEN 'CANCELLED'
        WHEN r.run_status = 'SKIPPED' THEN 'SKIPPED'
        ELSE 'IN_PROGRESS'
    END AS outcome,
    r.pipeline_version_number,
    r.created_at,
    r.started_at,
    r.completed_at,
    TO_DATE(CONVERT_TIMEZONE('UTC', r.created_at)) AS run_day,
    CASE
        WHEN r.run_status IN ('SUCCEEDED', 'WARNING', 'FAILED')
        THEN DATEDIFF('microsecond', r.started_at, r.completed_at) / 1000000.0
    END AS duration_seconds
FROM public.pipeline_runs r;

-- Pipelines with the name of their most recent run (a pipeline can be renamed).
CREATE OR REPLACE VIEW analytics.pipelines AS
SELECT
    pipeline_id,
    MAX_BY(pipeline_name, created_at) AS pipeline_name,
    MIN(run_day) AS first_run_day,
    MAX(run_day) AS last_run_day,
    COUNT(*) AS runs
FROM analytics.run_outcomes
GROUP BY pipeline_id;

-- Pipeline reliability per pipeline and UTC day of creation; every day from the pipeline's first run
-- to the last day with any run in the table has a row (runs = 0 on empty days).
CREATE OR REPLACE VIEW analytics.pipeline_daily_reliability AS
WITH bounds AS (
    SELECT p.pipeline_id, p.pipeline_name, p.first_run_day, (SELECT MAX(run_day) FROM analytics.run_outcomes) AS last_day
    FROM analytics.pipelines p
),
days AS (
    SELECT b.pipeline_id, b.pipeline_name, TO_DATE(DATEADD(day, f.value::INT, b.first_run_day)) AS day
    FROM bounds b,
        LATERAL FLATTEN(input => ARRAY_GENERATE_RANGE(0, DATEDIFF(day, b.first_run_day, b.last_day) + 1)) f
),
per_day AS (
    SELECT
        pipeline_id,
        run_day,
        COUNT(*) AS runs,
        COUNT_IF(outcome = 'SUCCEEDED') AS succeeded,
        COUNT_IF(run_status = 'WARNING') AS warnings,
        COUNT_IF(outcome = 'FAILED') AS failed,
        COUNT_IF(outcome = 'CANCELLED') AS cancelled,
        COUNT_IF(outcome = 'SKIPPED') AS skipped,
        COUNT_IF(outcome = 'IN_PROGRESS') AS in_progress,
        PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY duration_seconds) AS p50_duration_seconds,
        PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY duration_seconds) AS p95_duration_seconds,
        MAX(duration_seconds) AS max_duration_seconds
    FROM analytics.run_outcomes
    GROUP BY pipeline_id, run_day
)
SELECT
    d.pipeline_id,
    d.pipeline_name,
    d.day,
    COALESCE(s.runs, 0) AS runs,
    COALESCE(s.succeeded, 0) AS succeeded,
    COALESCE(s.warnings, 0) AS warnings,
    COALESCE(s.failed, 0) AS failed,
    COALESCE(s.cancelled, 0) AS cancelled,
    COALESCE(s.skipped, 0) AS skipped,
    COALESCE(s.in_progress, 0) AS in_progress,
    s.succeeded / NULLIF(s.succeeded + s.failed, 0) AS success_rate,
    s.p50_duration_seconds,
    s.p95_duration_seconds,
    s.max_duration_seconds
FROM days d
LEFT JOIN per_day s ON s.pipeline_id = d.pipeline_id AND s.run_day = d.day;

-- Recovery: each failed run and the first successful run of the same pipeline that completed at or
-- after it (in completion order; ties broken by run id).
CREATE OR REPLACE VIEW analytics.pipeline_recovery AS
WITH ended AS (
    SELECT
        pipeline_id,
        pipeline_run_id,
        outcome,
        completed_at,
        LEAD(CASE WHEN outcome = 'SUCCEEDED' THEN completed_at END) IGNORE NULLS
            OVER (PARTITION BY pipeline_id ORDER BY completed_at, pipeline_run_id) AS next_success_at,
        LEAD(CASE WHEN outcome = 'SUCCEEDED' THEN pipeline_run_id END) IGNORE NULLS
            OVER (PARTITION BY pipeline_id ORDER BY completed_at, pipeline_run_id) AS next_success_run_id
    FROM analytics.run_outcomes
    WHERE outcome IN ('SUCCEEDED', 'FAILED') AND completed_at IS NOT NULL
)
SELECT
    e.pipeline_id,
    p.pipeline_name,
    e.pipeline_run_id AS failed_run_id,
    e.completed_at AS failed_at,
    e.next_success_run_id AS recovered_by_run_id,
    e.next_success_at AS recovered_at,
    e.next_success_at IS NOT NULL AS is_recovered,
    DATEDIFF('microsecond', e.completed_at, e.next_success_at) / 60000000.0 AS minutes_to_recovery
FROM ended e
JOIN analytics.pipelines p ON p.pipeline_id = e.pipeline_id
WHERE e.outcome = 'FAILED';

-- Recovery per pipeline: the mean over recovered failures; a failure not yet recovered is open.
CREATE OR REPLACE VIEW analytics.pipeline_recovery_summary AS
SELECT
    p.pipeline_id,
    p.pipeline_name,
    COUNT(r.failed_run_id) AS failures,
    COUNT_IF(r.is_recovered) AS recovered,
    COUNT_IF(NOT r.is_recovered) AS unrecovered,
    AVG(r.minutes_to_recovery) AS mean_minutes_to_recovery,
    MAX(r.minutes_to_recovery) AS max_minutes_to_recovery,
    MIN(CASE WHEN NOT r.is_recovered THEN r.failed_at END) AS failing_since
FROM analytics.pipelines p
LEFT JOIN analytics.pipeline_recovery r ON r.pipeline_id = p.pipeline_id
GROUP BY p.pipeline_id, p.pipeline_name;

-- Freshness: the latest successful run of each pipeline (by completion) and its age now.
CREATE OR REPLACE VIEW analytics.pipeline_freshness AS
WITH last_run AS (
    SELECT pipeline_id, pipeline_run_id, run_status, created_at
    FROM analytics.run_outcomes
    QUALIFY ROW_NUMBER() OVER (PARTITION BY pipeline_id ORDER BY created_at DESC, pipeline_run_id DESC) = 1
),
last_success AS (
    SELECT pipeline_id, pipeline_run_id, completed_at
    FROM analytics.run_outcomes
    WHERE outcome = 'SUCCEEDED' AND completed_at IS NOT NULL
    QUALIFY ROW_NUMBER() OVER (PARTITION BY pipeline_id ORDER BY completed_at DESC, pipeline_run_id DESC) = 1
),
failed_since AS (
    SELECT o.pipeline_id, COUNT(*) AS failures_since_success
    FROM analytics.run_outcomes o
    LEFT JOIN last_success s ON s.pipeline_id = o.pipeline_id
    WHERE o.outcome = 'FAILED' AND (s.completed_at IS NULL OR o.completed_at > s.completed_at)
    GROUP BY o.pipeline_id
)
SELECT
    p.pipeline_id,
    p.pipeline_name,
    l.pipeline_run_id AS last_run_id,
    l.run_status AS last_run_status,
    l.created_at AS last_run_created_at,
    s.pipeline_run_id AS last_success_run_id,
    s.completed_at AS last_success_at,
    DATEDIFF('second', s.completed_at, CURRENT_TIMESTAMP()) / 60.0 AS minutes_since_success,
    COALESCE(f.failures_since_success, 0) AS failures_since_success
FROM analytics.pipelines p
LEFT JOIN last_run l ON l.pipeline_id = p.pipeline_id
LEFT JOIN last_success s ON s.pipeline_id = p.pipeline_id
LEFT JOIN failed_since f ON f.pipeline_id = p.pipeline_id;

-- Task attempts: every task run row, the pipeline version of its run, whether it is the final
-- attempt of its task in its run (highest number_of_attempts; earlier attempts are superseded), and
-- the duration of attempts that ran to a result.
CREATE OR REPLACE VIEW analytics.task_attempts AS
SELECT
    t.pipeline_id,
    t.pipeline_run_id,
    t.task_id,
    t.task_name,
    t.integration,
    t.id AS task_run_id,
    t.status,
    COALESCE(t.number_of_attempts, 1) AS attempt,
    r.pipeline_version_number,
    t.created_at,
    t.started_at,
    t.completed_at,
    ROW_NUMBER() OVER (
        PARTITION BY t.pipeline_run_id, t.task_id
        ORDER BY COALESCE(t.number_of_attempts, 1) DESC, t.created_at DESC, t.id DESC
    ) = 1 AS is_final_attempt,
    CASE
        WHEN t.status IN ('SUCCEEDED', 'WARNING', 'FAILED')
        THEN DATEDIFF('microsecond', t.started_at, t.completed_at) / 1000000.0
    END AS duration_seconds
FROM public.task_runs t
LEFT JOIN public.pipeline_runs r ON r.id = t.pipeline_run_id;

-- Flaky task events: a failed attempt followed, as the task's next attempt with a result (in creation
-- order, any run), by a successful one of the same pipeline version.
CREATE OR REPLACE VIEW analytics.flaky_task_events AS
WITH finished AS (
    SELECT
        a.*,
        LAG(status) OVER (PARTITION BY pipeline_id, task_id ORDER BY created_at, attempt, task_run_id) AS prev_status,
        LAG(task_run_id) OVER (PARTITION BY pipeline_id, task_id ORDER BY created_at, attempt, task_run_id) AS prev_task_run_id,
        LAG(pipeline_run_id) OVER (PARTITION BY pipeline_id, task_id ORDER BY created_at, attempt, task_run_id) AS prev_pipeline_run_id,
        LAG(completed_at) OVER (PARTITION BY pipeline_id, task_id ORDER BY created_at, attempt, task_run_id) AS prev_completed_at,
        LAG(pipeline_version_number) OVER (PARTITION BY pipeline_id, task_id ORDER BY created_at, attempt, task_run_id) AS prev_version
    FROM analytics.task_attempts a
    WHERE status IN ('SUCCEEDED', 'WARNING', 'FAILED')
)
SELECT
    pipeline_id,
    task_id,
    task_name,
    prev_task_run_id AS failed_task_run_id,
    prev_pipeline_run_id AS failed_pipeline_run_id,
    prev_completed_at AS failed_at,
    task_run_id AS succeeded_task_run_id,
    pipeline_run_id AS succeeded_pipeline_run_id,
    completed_at AS succeeded_at,
    pipeline_run_id = prev_pipeline_run_id AS is_retry_in_same_run,
    pipeline_version_number
FROM finished
WHERE status IN ('SUCCEEDED', 'WARNING')
    AND prev_status = 'FAILED'
    AND pipeline_version_number IS NOT DISTINCT FROM prev_version;

-- Task health per pipeline and task id: outcomes of final attempts, retries, flakiness, durations,
-- and the operations of all attempts.
CREATE OR REPLACE VIEW analytics.task_health AS
WITH finals AS (
    SELECT
        pipeline_id,
        task_id,
        MAX_BY(task_name, created_at) AS task_name,
        MAX_BY(integration, created_at) AS integration,
        COUNT(*) AS task_runs,
        COUNT_IF(status IN ('SUCCEEDED', 'WARNING')) AS succeeded,
        COUNT_IF(status = 'FAILED') AS failed,
        COUNT_IF(status = 'CANCELLED') AS cancelled,
        COUNT_IF(status = 'SKIPPED') AS skipped,
        COUNT_IF(status NOT IN ('SUCCEEDED', 'WARNING', 'FAILED', 'CANCELLED', 'SKIPPED')) AS in_progress,
        COUNT_IF(attempt > 1) AS retried,
        COUNT_IF(attempt > 1 AND status IN ('SUCCEEDED', 'WARNING')) AS retried_then_succeeded,
        PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY duration_seconds) AS p50_duration_seconds,
        PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY duration_seconds) AS p95_duration_seconds,
        MAX(duration_seconds) AS max_duration_seconds
    FROM analytics.task_attempts
    WHERE is_final_attempt
    GROUP BY pipeline_id, task_id
),
attempts AS (
    SELECT pipeline_id, task_id, COUNT(*) AS attempts FROM analytics.task_attempts GROUP BY pipeline_id, task_id
),
flaky AS (
    SELECT pipeline_id, task_id, COUNT(*) AS flaky_events FROM analytics.flaky_task_events GROUP BY pipeline_id, task_id
),
ops AS (
    SELECT a.pipeline_id, a.task_id, COUNT(*) AS operations, SUM(o.rows_affected) AS rows_affected
    FROM public.operations o
    JOIN analytics.task_attempts a ON a.task_run_id = o.task_run_id
    GROUP BY a.pipeline_id, a.task_id
)
SELECT
    f.pipeline_id,
    p.pipeline_name,
    f.task_id,
    f.task_name,
    f.integration,
    f.task_runs,
    a.attempts,
    f.succeeded,
    f.failed,
    f.cancelled,
    f.skipped,
    f.in_progress,
    f.failed / NULLIF(f.succeeded + f.failed, 0) AS failure_rate,
    f.retried,
    f.retried_then_succeeded,
    COALESCE(fl.flaky_events, 0) AS flaky_events,
    COALESCE(fl.flaky_events, 0) > 0 AS is_flaky,
    f.p50_duration_seconds,
    f.p95_duration_seconds,
    f.max_duration_seconds,
    COALESCE(o.operations, 0) AS operations,
    o.rows_affected
FROM finals f
JOIN attempts a ON a.pipeline_id = f.pipeline_id AND a.task_id = f.task_id
LEFT JOIN analytics.pipelines p ON p.pipeline_id = f.pipeline_id
LEFT JOIN flaky fl ON fl.pipeline_id = f.pipeline_id AND fl.task_id = f.task_id
LEFT JOIN ops o ON o.pipeline_id = f.pipeline_id AND o.task_id = f.task_id;

-- Operations per integration, type and name: counts, failures, durations as the API reports them
-- (operation_duration, seconds) and rows affected.
CREATE OR REPLACE VIEW analytics.operation_stats AS
SELECT
    integration,
    operation_type,
    operation_name,
    COUNT(*) AS operations,
    COUNT_IF(operation_status = 'FAILED') AS failed,
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY operation_duration) AS p50_duration_seconds,
    PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY operation_duration) AS p95_duration_seconds,
    MAX(operation_duration) AS max_duration_seconds,
    SUM(rows_affected) AS rows_affected,
    MAX(inserted_at) AS last_inserted_at
FROM public.operations
GROUP BY integration, operation_type, operation_name;

-- SLA limits with pipeline names (app_viewer reads this; it has no access to schema config).
CREATE OR REPLACE VIEW analytics.pipeline_slas AS
SELECT s.pipeline_id, p.pipeline_name, s.max_duration_minutes, s.latest_finish_time, s.time_zone, s.updated_at
FROM config.pipeline_sla s
LEFT JOIN analytics.pipelines p ON p.pipeline_id = s.pipeline_id;

-- SLA breaches, one row per run and limit broken. MAX_DURATION: a run that ran to a result took
-- longer than the limit, or a run still in progress has been running longer than it. LATEST_FINISH:
-- a run created on local day D (in the SLA's time zone) at or before the latest finish time T
-- completed after D T, or is still in progress after it.
CREATE OR REPLACE VIEW analytics.sla_breaches AS
WITH limits AS (
    SELECT
        o.*,
        s.max_duration_minutes,
        s.latest_finish_time,
        s.time_zone,
        CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP())::TIMESTAMP_NTZ AS now_utc,
        CONVERT_TIMEZONE('UTC', o.completed_at)::TIMESTAMP_NTZ AS completed_utc,
        CONVERT_TIMEZONE('UTC', o.started_at)::TIMESTAMP_NTZ AS started_utc,
        CASE
            WHEN s.latest_finish_time IS NOT NULL
                AND TO_TIME(CONVERT_TIMEZONE(s.time_zone, o.created_at)) <= s.latest_finish_time
            THEN CONVERT_TIMEZONE(s.time_zone, 'UTC', TIMESTAMP_NTZ_FROM_PARTS(
                TO_DATE(CONVERT_TIMEZONE(s.time_zone, o.created_at)), s.latest_finish_time))
        END AS deadline_utc
    FROM analytics.run_outcomes o
    JOIN config.pipeline_sla s ON s.pipeline_id = o.pipeline_id
),
duration AS (
    SELECT
        l.*,
        CASE
            WHEN l.outcome = 'IN_PROGRESS' THEN DATEDIFF('microsecond', l.started_utc, l.now_utc) / 60000000.0
            ELSE l.duration_seconds / 60.0
        END AS minutes
    FROM limits l
)
SELECT
    d.pipeline_id,
    p.pipeline_name,
    d.pipeline_run_id,
    d.run_status,
    d.run_day,
    'MAX_DURATION' AS breach_type,
    d.outcome = 'IN_PROGRESS' AS still_running,
    d.max_duration_minutes AS limit_minutes,
    NULL::TIMESTAMP_NTZ AS deadline_utc,
    d.minutes AS actual_minutes,
    d.minutes - d.max_duration_minutes AS minutes_over
FROM duration d
JOIN analytics.pipelines p ON p.pipeline_id = d.pipeline_id
WHERE d.max_duration_minutes IS NOT NULL AND d.minutes > d.max_duration_minutes
UNION ALL
SELECT
    l.pipeline_id,
    p.pipeline_name,
    l.pipeline_run_id,
    l.run_status,
    l.run_day,
    'LATEST_FINISH' AS breach_type,
    l.completed_utc IS NULL AS still_running,
    NULL AS limit_minutes,
    l.deadline_utc,
    NULL AS actual_minutes,
    DATEDIFF('microsecond', l.deadline_utc, COALESCE(l.completed_utc, l.now_utc)) / 60000000.0 AS minutes_over
FROM limits l
JOIN analytics.pipelines p ON p.pipeline_id = l.pipeline_id
WHERE l.deadline_utc IS NOT NULL
    AND (l.outcome <> 'SKIPPED')
    AND COALESCE(l.completed_utc, l.now_utc) > l.deadline_utc;

-- Sets (or, with both limits NULL, removes) a pipeline's SLA. `pipeline` is a pipeline id or the
-- name of its latest run. Each bad input raises one error naming the argument.
CREATE OR REPLACE PROCEDURE analytics.set_pipeline_sla(
    pipeline VARCHAR, max_duration_minutes FLOAT, latest_finish_time VARCHAR, time_zone VARCHAR)
  RETURNS VARCHAR
  LANGUAGE SQL
  EXECUTE AS OWNER
AS
$$
DECLARE
  unknown_pipeline EXCEPTION (-20101, 'pipeline: no loaded pipeline run has this pipeline id or pipeline name; see analytics.pipelines');
  ambiguous_pipeline EXCEPTION (-20102, 'pipeline: several pipelines have this name; pass the pipeline_id from analytics.pipelines');
  bad_duration EXCEPTION (-20103, 'max_duration_minutes: must be a number of minutes greater than 0, or NULL');
  bad_finish EXCEPTION (-20104, 'latest_finish_time: must be a time of day as HH:MI or HH:MI:SS (24-hour), or NULL');
  bad_zone EXCEPTION (-20105, 'time_zone: must be an IANA time zone name such as UTC or Europe/Paris');
  matches INTEGER;
  resolved VARCHAR;
BEGIN
  matches := (SELECT COUNT(*) FROM analytics.pipelines WHERE pipeline_id = :pipeline OR pipeline_name = :pipeline);
  IF (matches = 0) THEN
    RAISE unknown_pipeline;
  END IF;
  IF (matches > 1) THEN
    RAISE ambiguous_pipeline;
  END IF;
  resolved := (SELECT pipeline_id FROM analytics.pipelines WHERE pipeline_id = :pipeline OR pipeline_name = :pipeline);
  IF (max_duration_minutes IS NOT NULL AND max_duration_minutes <= 0) THEN
    RAISE bad_duration;
  END IF;
  IF (latest_finish_time IS NOT NULL AND TRY_TO_TIME(latest_finish_time) IS NULL) THEN
    RAISE bad_finish;
  END IF;
  BEGIN
    LET probe TIMESTAMP_NTZ := (SELECT CONVERT_TIMEZONE(COALESCE(:time_zone, 'UTC'), CURRENT_TIMESTAMP())::TIMESTAMP_NTZ);
  EXCEPTION
    WHEN OTHER THEN
      RAISE bad_zone;
  END;
  DELETE FROM config.pipeline_sla WHERE pipeline_id = :resolved;
  IF (max_duration_minutes IS NOT NULL OR latest_finish_time IS NOT NULL) THEN
    INSERT INTO config.pipeline_sla (pipeline_id, max_duration_minutes, latest_finish_time, time_zone, updated_at)
      SELECT :resolved, :max_duration_minutes, TRY_TO_TIME(:latest_finish_time), COALESCE(:time_zone, 'UTC'), CURRENT_TIMESTAMP();
  END IF;
  RETURN 'SLA of pipeline ' || resolved || ': max_duration_minutes=' || COALESCE(max_duration_minutes::VARCHAR, 'none')
    || ', latest_finish_time=' || COALESCE(latest_finish_time, 'none') || ' ' || COALESCE(time_zone, 'UTC');
END;
$$;

-- ==== app only: the app's own load history (public.ingestion_history, config.sync_state) =========

-- Sync health per stream: the last load, the last success, failures, rows and lag.
CREATE OR REPLACE VIEW analytics.sync_health AS
WITH streams AS (
    -- One row per stream, from the app's status view (its list is generated from resources/streams.json).
    SELECT stream FROM public.sync_status
),
last_load AS (
    SELECT stream, started_at, ended_at, status, rows_merged, records_read, error,
        DATEDIFF('microsecond', started_at, ended_at) / 1000000.0 AS seconds
    FROM public.ingestion_history
    QUALIFY ROW_NUMBER() OVER (PARTITION BY stream ORDER BY started_at DESC, run_id DESC) = 1
),
last_success AS (
    SELECT stream, MAX(ended_at) AS ended_at FROM public.ingestion_history WHERE status = 'SUCCEEDED' GROUP BY stream
),
totals AS (
    SELECT
        h.stream,
        COUNT(*) AS loads,
        COUNT_IF(h.status = 'FAILED') AS failed_loads,
        COUNT_IF(h.status = 'FAILED' AND (s.ended_at IS NULL OR h.started_at > s.ended_at)) AS failures_since_success,
        COUNT_IF(h.started_at >= DATEADD('hour', -24, CURRENT_TIMESTAMP())) AS loads_24h,
        COUNT_IF(h.status = 'FAILED' AND h.started_at >= DATEADD('hour', -24, CURRENT_TIMESTAMP())) AS failed_loads_24h,
        SUM(CASE WHEN h.started_at >= DATEADD('hour', -24, CURRENT_TIMESTAMP()) THEN h.rows_merged END) AS rows_merged_24h,
        SUM(h.rows_merged) AS rows_merged
    FROM public.ingestion_history h
    LEFT JOIN last_success s ON s.stream = h.stream
    GROUP BY h.stream
),
last_error AS (
    SELECT stream, error
    FROM public.ingestion_history WHERE status = 'FAILED'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY stream ORDER BY started_at DESC, run_id DESC) = 1
)
SELECT
    s.stream,
    l.started_at AS last_load_started_at,
    l.ended_at AS last_load_ended_at,
    l.status AS last_load_status,
    l.rows_merged AS last_load_rows_merged,
    l.records_read AS last_load_records_read,
    l.seconds AS last_load_seconds,
    ok.ended_at AS last_success_at,
    DATEDIFF('second', ok.ended_at, CURRENT_TIMESTAMP()) / 60.0 AS minutes_since_success,
    st.cursor AS complete_up_to,
    DATEDIFF('second', st.cursor, CURRENT_TIMESTAMP()) / 60.0 AS lag_minutes,
    COALESCE(t.loads, 0) AS loads,
    COALESCE(t.failed_loads, 0) AS failed_loads,
    COALESCE(t.failures_since_success, 0) AS failures_since_success,
    COALESCE(t.loads_24h, 0) AS loads_24h,
    COALESCE(t.failed_loads_24h, 0) AS failed_loads_24h,
    COALESCE(t.rows_merged_24h, 0) AS rows_merged_24h,
    COALESCE(t.rows_merged, 0) AS rows_merged,
    e.error AS last_error
FROM streams s
LEFT JOIN last_load l ON l.stream = s.stream
LEFT JOIN last_success ok ON ok.stream = s.stream
LEFT JOIN totals t ON t.stream = s.stream
LEFT JOIN last_error e ON e.stream = s.stream
LEFT JOIN config.sync_state st ON st.stream = s.stream;

-- Loads per stream and UTC day: counts, failures, rows and mean duration (for the sync chart).
CREATE OR REPLACE VIEW analytics.sync_daily AS
SELECT
    stream,
    TO_DATE(CONVERT_TIMEZONE('UTC', started_at)) AS day,
    COUNT(*) AS loads,
    COUNT_IF(status = 'FAILED') AS failed_loads,
    COALESCE(SUM(rows_merged), 0) AS rows_merged,
    COALESCE(SUM(records_read), 0) AS records_read,
    AVG(DATEDIFF('microsecond', started_at, ended_at) / 1000000.0) AS mean_seconds
FROM public.ingestion_history
GROUP BY stream, TO_DATE(CONVERT_TIMEZONE('UTC', started_at));

-- Who reads and who sets: app_viewer (and app_admin, which has app_viewer) reads every view of
-- schema analytics; only app_admin sets SLA limits. The views run with the app's rights, so viewers
-- need no access to public or config.
GRANT USAGE ON SCHEMA analytics TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.run_outcomes TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.pipelines TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.pipeline_daily_reliability TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.pipeline_recovery TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.pipeline_recovery_summary TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.pipeline_freshness TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.task_attempts TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.flaky_task_events TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.task_health TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.operation_stats TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.pipeline_slas TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.sla_breaches TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.sync_health TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW analytics.sync_daily TO APPLICATION ROLE app_viewer;
GRANT USAGE ON PROCEDURE analytics.set_pipeline_sla(VARCHAR, FLOAT, VARCHAR, VARCHAR) TO APPLICATION ROLE app_admin;
