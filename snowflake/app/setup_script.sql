-- Orchestra Data App: setup script. Snowflake runs it, top to bottom, on install and on every
-- upgrade. SQL only (no Python runs here): roles, data and state (never replaced), the secret, the
-- egress objects, the versioned code schema `core` with every function and procedure and its grant,
-- and the schedule. Sources for each rule: docs/snowflake-app.md. The lines between
-- `-- GENERATED BEGIN <region>` and `-- GENERATED END <region>` are one per stream of
-- resources/streams.json, written by `python3 scripts/generate.py` (docs/adding-a-stream.md).

-- 1. Application roles --------------------------------------------------------------------------
-- app_admin configures, loads and schedules; app_viewer reads tables, the view and the history,
-- and can call nothing (so nothing that reaches the network or writes).
CREATE APPLICATION ROLE IF NOT EXISTS app_admin;
CREATE APPLICATION ROLE IF NOT EXISTS app_viewer;
GRANT APPLICATION ROLE app_viewer TO APPLICATION ROLE app_admin;

-- 2. Data and state (normal schemas: an upgrade evolves them, never replaces them) ------------------
CREATE SCHEMA IF NOT EXISTS public;
GRANT USAGE ON SCHEMA public TO APPLICATION ROLE app_viewer;
EXECUTE IMMEDIATE FROM './sql/tables.sql';
EXECUTE IMMEDIATE FROM './sql/state.sql';
-- Reliability views over the tables (schema analytics, readable by app_viewer) and the SLA limits
-- app_admin sets: docs/analytics.md.
EXECUTE IMMEDIATE FROM './sql/analytics.sql';
-- GENERATED BEGIN viewer grants (python3 scripts/generate.py, from resources/streams.json)
GRANT SELECT ON TABLE public.pipeline_runs TO APPLICATION ROLE app_viewer;
GRANT SELECT ON TABLE public.task_runs TO APPLICATION ROLE app_viewer;
GRANT SELECT ON TABLE public.operations TO APPLICATION ROLE app_viewer;
-- GENERATED END viewer grants
GRANT SELECT ON TABLE public.ingestion_history TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW public.sync_status TO APPLICATION ROLE app_viewer;
GRANT USAGE ON SCHEMA config TO APPLICATION ROLE app_admin;
GRANT SELECT ON TABLE config.settings TO APPLICATION ROLE app_admin;
GRANT SELECT ON TABLE config.sync_state TO APPLICATION ROLE app_admin;
GRANT SELECT ON TABLE config.app_status TO APPLICATION ROLE app_admin;

-- 3. The API key: an app-owned secret, changed in place by core.set_api_key, never readable by SQL.
CREATE SECRET IF NOT EXISTS config.orchestra_api_key
  TYPE = GENERIC_STRING
  SECRET_STRING = 'unset';

-- 4. The network rule and the app specification the consumer approves (plain DDL, so they exist
-- even before anything else): the specification's HOST_PORTS equal the rule's VALUE_LIST.
CREATE NETWORK RULE IF NOT EXISTS config.orchestra_api_rule
  TYPE = HOST_PORT
  MODE = EGRESS
  VALUE_LIST = ('app.getorchestra.io:443');
ALTER NETWORK RULE config.orchestra_api_rule SET VALUE_LIST = ('app.getorchestra.io:443');
ALTER APPLICATION SET SPECIFICATION orchestra_api
  TYPE = EXTERNAL_ACCESS
  LABEL = 'Orchestra API'
  DESCRIPTION = 'HTTPS to Orchestra''s metadata API (app.getorchestra.io:443) to read your run metadata with your API key. Nothing else is reachable.'
  HOST_PORTS = ('app.getorchestra.io:443');

-- 5. Code: a versioned schema. Each version's `core` holds exactly what this script creates in it,
-- so every routine is created here, on install and on every upgrade, never at run time.
CREATE OR ALTER VERSIONED SCHEMA core;
GRANT USAGE ON SCHEMA core TO APPLICATION ROLE app_admin;

-- The dashboard (the manifest's default_streamlit): it reads the analytics views, so app_viewer may
-- open it; it calls nothing.
CREATE OR REPLACE STREAMLIT core.dashboard FROM '/streamlit' MAIN_FILE = '/dashboard.py';
GRANT USAGE ON SCHEMA core TO APPLICATION ROLE app_viewer;
GRANT USAGE ON STREAMLIT core.dashboard TO APPLICATION ROLE app_viewer;

-- Checks and repairs the egress objects (rule, integration, specification) and says what is still
-- missing: the approval, the key. Snowflake Scripting, owner's rights: allowed in a setup script.
CREATE OR REPLACE PROCEDURE core.create_eai_objects()
  RETURNS VARCHAR
  LANGUAGE SQL
  EXECUTE AS OWNER
AS
$$
DECLARE
  eai VARCHAR DEFAULT '"' || REPLACE(CURRENT_DATABASE(), '"', '""') || '_ORCHESTRA_EAI"';
  approved NUMBER DEFAULT 0;
  key_set NUMBER DEFAULT 0;
  todo VARCHAR DEFAULT '';
BEGIN
  CREATE NETWORK RULE IF NOT EXISTS config.orchestra_api_rule TYPE = HOST_PORT MODE = EGRESS VALUE_LIST = ('app.getorchestra.io:443');
  ALTER NETWORK RULE config.orchestra_api_rule SET VALUE_LIST = ('app.getorchestra.io:443');
  EXECUTE IMMEDIATE 'CREATE EXTERNAL ACCESS INTEGRATION IF NOT EXISTS ' || eai || ' ALLOWED_NETWORK_RULES = (config.orchestra_api_rule) ALLOWED_AUTHENTICATION_SECRETS = (config.orchestra_api_key) ENABLED = TRUE';
  EXECUTE IMMEDIATE 'ALTER EXTERNAL ACCESS INTEGRATION ' || eai || ' SET ALLOWED_NETWORK_RULES = (config.orchestra_api_rule) ALLOWED_AUTHENTICATION_SECRETS = (config.orchestra_api_key) ENABLED = TRUE';
  SELECT COUNT(*) INTO :approved FROM INFORMATION_SCHEMA.APPLICATION_SPECIFICATIONS WHERE NAME = 'ORCHESTRA_API' AND STATUS = 'APPROVED';
  SELECT COUNT(*) INTO :key_set FROM config.app_status WHERE name = 'api_key_set_at';
  IF (approved = 0) THEN
    todo := todo || ' Approve the app specification ORCHESTRA_API (Snowsight: Catalog > Apps > this app > Security; or ALTER APPLICATION <app> APPROVE SPECIFICATION orchestra_api SEQUENCE_NUMBER = <n>).';
  END IF;
  IF (key_set = 0) THEN
    todo := todo || ' Set the key: CALL core.set_api_key(''<your Orchestra API key>'');';
  END IF;
  IF (todo = '') THEN
    RETURN 'Ready: ' || eai || ' allows app.getorchestra.io:443, the specification is approved and a key is set. Next: CALL core.load_all();';
  END IF;
  RETURN 'Egress objects are in place (' || eai || '). Still to do:' || todo;
END;
$$;
GRANT USAGE ON PROCEDURE core.create_eai_objects() TO APPLICATION ROLE app_admin;

-- The lifecycle callback (manifest: after_specification_change): records the specification's
-- status when the consumer approves or declines it. Not granted: only Snowflake calls it.
CREATE OR REPLACE PROCEDURE core.on_specification_change(spec_name VARCHAR)
  RETURNS VARCHAR
  LANGUAGE SQL
  EXECUTE AS OWNER
AS
$$
DECLARE
  status VARCHAR;
BEGIN
  SELECT MAX(STATUS) INTO :status FROM INFORMATION_SCHEMA.APPLICATION_SPECIFICATIONS WHERE NAME = UPPER(:spec_name);
  MERGE INTO config.app_status AS t USING (SELECT 'specification ' || LOWER(:spec_name) AS name, :status AS value) AS s ON t.name = s.name WHEN MATCHED THEN UPDATE SET value = s.value, updated_at = CURRENT_TIMESTAMP() WHEN NOT MATCHED THEN INSERT (name, value, updated_at) VALUES (s.name, s.value, CURRENT_TIMESTAMP());
  RETURN status;
END;
$$;

-- Python procedures that never reach the network (no integration bound).
CREATE OR REPLACE PROCEDURE core.set_api_key(key VARCHAR)
  RETURNS VARCHAR
  LANGUAGE PYTHON
  RUNTIME_VERSION = '3.11'
  PACKAGES = ('snowflake-snowpark-python', 'requests')
  IMPORTS = ('/python/orchestra_app.zip')
  HANDLER = 'orchestra_app.handlers.set_api_key'
  EXECUTE AS OWNER;
GRANT USAGE ON PROCEDURE core.set_api_key(VARCHAR) TO APPLICATION ROLE app_admin;

CREATE OR REPLACE PROCEDURE core.set_setting(name VARCHAR, value VARCHAR)
  RETURNS VARCHAR
  LANGUAGE PYTHON
  RUNTIME_VERSION = '3.11'
  PACKAGES = ('snowflake-snowpark-python', 'requests')
  IMPORTS = ('/python/orchestra_app.zip')
  HANDLER = 'orchestra_app.handlers.set_setting'
  EXECUTE AS OWNER;
GRANT USAGE ON PROCEDURE core.set_setting(VARCHAR, VARCHAR) TO APPLICATION ROLE app_admin;

CREATE OR REPLACE PROCEDURE core.reset_stream(stream VARCHAR)
  RETURNS VARCHAR
  LANGUAGE PYTHON
  RUNTIME_VERSION = '3.11'
  PACKAGES = ('snowflake-snowpark-python', 'requests')
  IMPORTS = ('/python/orchestra_app.zip')
  HANDLER = 'orchestra_app.handlers.reset_stream'
  EXECUTE AS OWNER;
GRANT USAGE ON PROCEDURE core.reset_stream(VARCHAR) TO APPLICATION ROLE app_admin;

CREATE OR REPLACE PROCEDURE core.disable_schedule()
  RETURNS VARCHAR
  LANGUAGE PYTHON
  RUNTIME_VERSION = '3.11'
  PACKAGES = ('snowflake-snowpark-python', 'requests')
  IMPORTS = ('/python/orchestra_app.zip')
  HANDLER = 'orchestra_app.handlers.disable_schedule'
  EXECUTE AS OWNER;
GRANT USAGE ON PROCEDURE core.disable_schedule() TO APPLICATION ROLE app_admin;

-- 6. The integration and everything that reaches the network. An integration is an account-level
-- object, so its name carries the app's name (two installs in one account never share one); a
-- routine cannot name it through a variable, so these statements are built here, at setup, with
-- Snowflake Scripting. Each routine is bound to the integration and the secret; calls fail until
-- the consumer approves ORCHESTRA_API.
CALL core.create_eai_objects();
EXECUTE IMMEDIATE $$
DECLARE
  eai VARCHAR DEFAULT '"' || REPLACE(CURRENT_DATABASE(), '"', '""') || '_ORCHESTRA_EAI"';
  python VARCHAR DEFAULT ' LANGUAGE PYTHON RUNTIME_VERSION = ''3.11'' PACKAGES = (''snowflake-snowpark-python'', ''requests'') IMPORTS = (''/python/orchestra_app.zip'')';
  -- Loads stage each window with Session.write_pandas, which needs pandas.
  loader VARCHAR DEFAULT ' LANGUAGE PYTHON RUNTIME_VERSION = ''3.11'' PACKAGES = (''snowflake-snowpark-python'', ''requests'', ''pandas'') IMPORTS = (''/python/orchestra_app.zip'')';
  bind VARCHAR;
BEGIN
  bind := ' EXTERNAL_ACCESS_INTEGRATIONS = (' || eai || ') SECRETS = (''orchestra_api_key'' = config.orchestra_api_key)';
  -- GENERATED BEGIN stream routines (python3 scripts/generate.py, from resources/streams.json)
  EXECUTE IMMEDIATE 'CREATE OR REPLACE FUNCTION core.get_pipeline_runs(page NUMBER DEFAULT 1, per_page NUMBER DEFAULT 100) RETURNS VARIANT' || python || ' HANDLER = ''orchestra_app.udfs.get_pipeline_runs''' || bind;
  GRANT USAGE ON FUNCTION core.get_pipeline_runs(NUMBER, NUMBER) TO APPLICATION ROLE app_admin;
  EXECUTE IMMEDIATE 'CREATE OR REPLACE FUNCTION core.get_pipeline_runs(page NUMBER, per_page NUMBER, time_from TIMESTAMP_TZ, time_to TIMESTAMP_TZ) RETURNS VARIANT' || python || ' HANDLER = ''orchestra_app.udfs.get_pipeline_runs''' || bind;
  GRANT USAGE ON FUNCTION core.get_pipeline_runs(NUMBER, NUMBER, TIMESTAMP_TZ, TIMESTAMP_TZ) TO APPLICATION ROLE app_admin;
  EXECUTE IMMEDIATE 'CREATE OR REPLACE PROCEDURE core.load_pipeline_runs() RETURNS VARIANT' || loader || ' HANDLER = ''orchestra_app.handlers.load_pipeline_runs''' || bind || ' EXECUTE AS OWNER';
  GRANT USAGE ON PROCEDURE core.load_pipeline_runs() TO APPLICATION ROLE app_admin;
  EXECUTE IMMEDIATE 'CREATE OR REPLACE FUNCTION core.get_task_runs(page NUMBER DEFAULT 1, per_page NUMBER DEFAULT 100) RETURNS VARIANT' || python || ' HANDLER = ''orchestra_app.udfs.get_task_runs''' || bind;
  GRANT USAGE ON FUNCTION core.get_task_runs(NUMBER, NUMBER) TO APPLICATION ROLE app_admin;
  EXECUTE IMMEDIATE 'CREATE OR REPLACE FUNCTION core.get_task_runs(page NUMBER, per_page NUMBER, time_from TIMESTAMP_TZ, time_to TIMESTAMP_TZ) RETURNS VARIANT' || python || ' HANDLER = ''orchestra_app.udfs.get_task_runs''' || bind;
  GRANT USAGE ON FUNCTION core.get_task_runs(NUMBER, NUMBER, TIMESTAMP_TZ, TIMESTAMP_TZ) TO APPLICATION ROLE app_admin;
  EXECUTE IMMEDIATE 'CREATE OR REPLACE PROCEDURE core.load_task_runs() RETURNS VARIANT' || loader || ' HANDLER = ''orchestra_app.handlers.load_task_runs''' || bind || ' EXECUTE AS OWNER';
  GRANT USAGE ON PROCEDURE core.load_task_runs() TO APPLICATION ROLE app_admin;
  EXECUTE IMMEDIATE 'CREATE OR REPLACE FUNCTION core.get_operations(page NUMBER DEFAULT 1, per_page NUMBER DEFAULT 100) RETURNS VARIANT' || python || ' HANDLER = ''orchestra_app.udfs.get_operations''' || bind;
  GRANT USAGE ON FUNCTION core.get_operations(NUMBER, NUMBER) TO APPLICATION ROLE app_admin;
  EXECUTE IMMEDIATE 'CREATE OR REPLACE FUNCTION core.get_operations(page NUMBER, per_page NUMBER, time_from TIMESTAMP_TZ, time_to TIMESTAMP_TZ) RETURNS VARIANT' || python || ' HANDLER = ''orchestra_app.udfs.get_operations''' || bind;
  GRANT USAGE ON FUNCTION core.get_operations(NUMBER, NUMBER, TIMESTAMP_TZ, TIMESTAMP_TZ) TO APPLICATION ROLE app_admin;
  EXECUTE IMMEDIATE 'CREATE OR REPLACE PROCEDURE core.load_operations() RETURNS VARIANT' || loader || ' HANDLER = ''orchestra_app.handlers.load_operations''' || bind || ' EXECUTE AS OWNER';
  GRANT USAGE ON PROCEDURE core.load_operations() TO APPLICATION ROLE app_admin;
  -- GENERATED END stream routines
  EXECUTE IMMEDIATE 'CREATE OR REPLACE PROCEDURE core.load_all() RETURNS VARIANT' || loader || ' HANDLER = ''orchestra_app.handlers.load_all''' || bind || ' EXECUTE AS OWNER';
  GRANT USAGE ON PROCEDURE core.load_all() TO APPLICATION ROLE app_admin;
  EXECUTE IMMEDIATE 'CREATE OR REPLACE PROCEDURE core.test_connection() RETURNS VARIANT' || python || ' HANDLER = ''orchestra_app.handlers.test_connection''' || bind || ' EXECUTE AS OWNER';
  GRANT USAGE ON PROCEDURE core.test_connection() TO APPLICATION ROLE app_admin;
  EXECUTE IMMEDIATE 'CREATE OR REPLACE PROCEDURE core.enable_schedule(cron VARCHAR DEFAULT ''0 * * * *'') RETURNS VARIANT' || python || ' HANDLER = ''orchestra_app.handlers.enable_schedule''' || bind || ' EXECUTE AS OWNER';
  GRANT USAGE ON PROCEDURE core.enable_schedule(VARCHAR) TO APPLICATION ROLE app_admin;
  RETURN 'network routines bound to ' || eai;
END;
$$;

-- 7. The schedule: a serverless task in a normal schema (tasks cannot live in a versioned schema),
-- created suspended. It calls core.load_all() by name, so after an upgrade it runs the new version's
-- procedure, which this script has just created. core.enable_schedule(cron) resumes it.
CREATE TASK IF NOT EXISTS config.load_all_task
  SCHEDULE = 'USING CRON 0 * * * * UTC'
  USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'XSMALL'
  USER_TASK_TIMEOUT_MS = 14400000
  COMMENT = 'Runs core.load_all(); managed by core.enable_schedule / core.disable_schedule'
  AS CALL core.load_all();
