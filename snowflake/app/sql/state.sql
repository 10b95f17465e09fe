-- The app's own state: settings, per-stream sync state, ingestion history and the status view.
-- Run by setup_script.sql on every install and upgrade: only IF NOT EXISTS and ADD COLUMN IF NOT
-- EXISTS, so an upgrade keeps every row. Tested through fakesnow (snowflake/tests/test_sql.py).

CREATE SCHEMA IF NOT EXISTS config;

-- Settings as text (name, value); defaults live in the code (orchestra_app/settings.py), so a
-- missing row means "default" and an upgrade can change a default without touching user choices.
CREATE TABLE IF NOT EXISTS config.settings (
    name VARCHAR NOT NULL,
    value VARCHAR,
    updated_at TIMESTAMP_TZ
);

-- The connector's state shape per stream: {"cursor": ISO UTC, "open_ids": [...]}.
CREATE TABLE IF NOT EXISTS config.sync_state (
    stream VARCHAR NOT NULL,
    state VARIANT,
    cursor TIMESTAMP_TZ,
    updated_at TIMESTAMP_TZ
);
ALTER TABLE config.sync_state ADD COLUMN IF NOT EXISTS cursor TIMESTAMP_TZ;

-- What the app knows about its own setup, for core.create_eai_objects() to report: when a key was
-- set (never the key) and the specification's status recorded by the lifecycle callback.
CREATE TABLE IF NOT EXISTS config.app_status (
    name VARCHAR NOT NULL,
    value VARCHAR,
    updated_at TIMESTAMP_TZ
);

-- One row per stream per load call: start, end, status, rows, error.
CREATE TABLE IF NOT EXISTS public.ingestion_history (
    run_id VARCHAR NOT NULL,
    stream VARCHAR NOT NULL,
    procedure_name VARCHAR,
    started_at TIMESTAMP_TZ,
    ended_at TIMESTAMP_TZ,
    status VARCHAR,
    rows_merged NUMBER(38,0),
    records_read NUMBER(38,0),
    windows NUMBER(38,0),
    requests NUMBER(38,0),
    warnings VARIANT,
    error VARCHAR
);
ALTER TABLE public.ingestion_history ADD COLUMN IF NOT EXISTS records_read NUMBER(38,0);
ALTER TABLE public.ingestion_history ADD COLUMN IF NOT EXISTS warnings VARIANT;

-- Per stream: last success, last error, rows, and how far behind Orchestra the table is.
CREATE OR REPLACE VIEW public.sync_status AS
WITH streams AS (
    -- GENERATED BEGIN stream list (python3 scripts/generate.py, from resources/streams.json)
    SELECT column1 AS stream FROM VALUES ('pipeline_runs'), ('task_runs'), ('operations')
    -- GENERATED END stream list
),
last_run AS (
    SELECT stream, status AS last_status, started_at AS last_started_at, rows_merged AS last_rows_merged,
        warnings AS last_warnings
    FROM public.ingestion_history
    QUALIFY ROW_NUMBER() OVER (PARTITION BY stream ORDER BY started_at DESC) = 1
),
last_success AS (
    SELECT stream, MAX(ended_at) AS last_success_at
    FROM public.ingestion_history WHERE status = 'SUCCEEDED' GROUP BY stream
),
last_error AS (
    SELECT stream, ended_at AS last_error_at, error AS last_error
    FROM public.ingestion_history WHERE status = 'FAILED'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY stream ORDER BY ended_at DESC) = 1
),
table_rows AS (
    -- GENERATED BEGIN table rows (python3 scripts/generate.py, from resources/streams.json)
    SELECT 'pipeline_runs' AS stream, COUNT(*) AS row_count, MAX(loaded_at) AS last_loaded_at FROM public.pipeline_runs
    UNION ALL
    SELECT 'task_runs' AS stream, COUNT(*) AS row_count, MAX(loaded_at) AS last_loaded_at FROM public.task_runs
    UNION ALL
    SELECT 'operations' AS stream, COUNT(*) AS row_count, MAX(loaded_at) AS last_loaded_at FROM public.operations
    -- GENERATED END table rows
)
SELECT
    s.stream,
    r.last_status,
    r.last_started_at,
    ok.last_success_at,
    e.last_error_at,
    e.last_error,
    r.last_rows_merged,
    t.row_count,
    t.last_loaded_at,
    st.cursor AS complete_up_to,
    DATEDIFF('minute', st.cursor, CURRENT_TIMESTAMP()) AS lag_minutes,
    ARRAY_SIZE(st.state:open_ids) AS open_runs_followed,
    r.last_warnings
FROM streams s
LEFT JOIN last_run r ON r.stream = s.stream
LEFT JOIN last_success ok ON ok.stream = s.stream
LEFT JOIN last_error e ON e.stream = s.stream
LEFT JOIN table_rows t ON t.stream = s.stream
LEFT JOIN config.sync_state st ON st.stream = s.stream;
