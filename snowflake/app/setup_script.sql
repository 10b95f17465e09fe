-- Orchestra Data App: setup script. Runs on install and on every upgrade, top to bottom:
-- roles, data and state (never versioned, never dropped), the secret, code (versioned), egress,
-- the schedule. Every CREATE is idempotent, so running it twice keeps every row.

-- 1. Application roles --------------------------------------------------------------------------
-- app_admin configures, loads and schedules; app_viewer reads tables, the view and the history,
-- and can reach nothing on the network.
CREATE APPLICATION ROLE IF NOT EXISTS app_admin;
CREATE APPLICATION ROLE IF NOT EXISTS app_viewer;
GRANT APPLICATION ROLE app_viewer TO APPLICATION ROLE app_admin;

-- 2. Data and state (normal schemas: an upgrade evolves them, never replaces them) ------------------
CREATE SCHEMA IF NOT EXISTS public;
GRANT USAGE ON SCHEMA public TO APPLICATION ROLE app_viewer;
EXECUTE IMMEDIATE FROM './sql/tables.sql';
EXECUTE IMMEDIATE FROM './sql/state.sql';
GRANT SELECT ON TABLE public.pipeline_runs TO APPLICATION ROLE app_viewer;
GRANT SELECT ON TABLE public.task_runs TO APPLICATION ROLE app_viewer;
GRANT SELECT ON TABLE public.operations TO APPLICATION ROLE app_viewer;
GRANT SELECT ON TABLE public.ingestion_history TO APPLICATION ROLE app_viewer;
GRANT SELECT ON VIEW public.sync_status TO APPLICATION ROLE app_viewer;
GRANT USAGE ON SCHEMA config TO APPLICATION ROLE app_admin;
GRANT SELECT ON TABLE config.settings TO APPLICATION ROLE app_admin;
GRANT SELECT ON TABLE config.sync_state TO APPLICATION ROLE app_admin;

-- 3. The API key: an app-owned secret, changed in place by core.set_api_key, never readable by SQL.
CREATE SECRET IF NOT EXISTS config.orchestra_api_key
  TYPE = GENERIC_STRING
  SECRET_STRING = 'unset';

-- 4. Code: a versioned schema, replaced atomically by each version ------------------------------
CREATE OR ALTER VERSIONED SCHEMA core;
GRANT USAGE ON SCHEMA core TO APPLICATION ROLE app_admin;

-- Procedures that never reach the network.
CREATE OR REPLACE PROCEDURE core.create_eai_objects()
  RETURNS VARCHAR
  LANGUAGE PYTHON
  RUNTIME_VERSION = '3.11'
  PACKAGES = ('snowflake-snowpark-python', 'requests')
  IMPORTS = ('/python/orchestra_app.zip')
  HANDLER = 'orchestra_app.handlers.create_eai_objects'
  EXECUTE AS OWNER;
GRANT USAGE ON PROCEDURE core.create_eai_objects() TO APPLICATION ROLE app_admin;

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

-- 5. Egress. The network rule and the app specification are plain DDL, so the consumer can approve
-- the specification even if the next step cannot run: HOST_PORTS must equal the rule's VALUE_LIST.
CREATE NETWORK RULE IF NOT EXISTS config.orchestra_api_rule
  TYPE = HOST_PORT
  MODE = EGRESS
  VALUE_LIST = ('app.getorchestra.io:443');
ALTER NETWORK RULE config.orchestra_api_rule SET VALUE_LIST = ('app.getorchestra.io:443');
ALTER APPLICATION SET SPECIFICATION orchestra_api
  TYPE = EXTERNAL_ACCESS
  LABEL = 'Orchestra API'
  DESCRIPTION = 'HTTPS to Orchestra''s metadata API (app.getorchestra.io:443) to read pipeline runs, task runs and operations with your API key. Nothing else is reachable.'
  HOST_PORTS = ('app.getorchestra.io:443');

-- The integration (named after the app, integrations are account-wide) and the functions and
-- procedures bound to it (core.get_*, core.load_*, core.test_connection, core.enable_schedule),
-- each followed by its grant to app_admin, come from core.create_eai_objects(). If it cannot run
-- here (it is a Python procedure), the install still completes and the README's first step,
-- CALL core.create_eai_objects(), creates them; it is idempotent either way.
EXECUTE IMMEDIATE $$
BEGIN
  CALL core.create_eai_objects();
  RETURN 'egress objects created';
EXCEPTION
  WHEN OTHER THEN
    RETURN 'core.create_eai_objects() could not run during setup (' || SQLERRM || '): CALL it once after install';
END;
$$;

-- 6. The schedule: a serverless task, created suspended; core.enable_schedule(cron) checks the
-- approval and the key, then sets the cron and resumes it.
CREATE TASK IF NOT EXISTS config.load_all_task
  SCHEDULE = 'USING CRON 0 * * * * UTC'
  USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'XSMALL'
  USER_TASK_TIMEOUT_MS = 14400000
  COMMENT = 'Runs core.load_all(); managed by core.enable_schedule / core.disable_schedule'
  AS CALL core.load_all();
