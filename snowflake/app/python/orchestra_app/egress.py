"""The egress objects and everything bound to them, as the DDL core.create_eai_objects() runs.

One place defines the host the app may reach: the network rule's VALUE_LIST and the app
specification's HOST_PORTS are both built from HOST_PORT, so they cannot drift apart. Only
app_admin is granted anything here: every object in this file can reach the network.
"""

from __future__ import annotations

HOST_PORT = "app.getorchestra.io:443"
RULE = "config.orchestra_api_rule"
SECRET = "config.orchestra_api_key"
SECRET_NAME = "orchestra_api_key"
SPEC_NAME = "orchestra_api"
SPEC_LABEL = "Orchestra API"
SPEC_DESCRIPTION = (
    "HTTPS to Orchestra''s metadata API (app.getorchestra.io:443) to read pipeline runs, task runs and "
    "operations with your API key. Nothing else is reachable."
)  # a SQL string literal: the quote is doubled
RUNTIME = "3.11"
IMPORTS = "('/python/orchestra_app.zip')"
PACKAGES = "('snowflake-snowpark-python', 'requests')"
ADMIN = "APPLICATION ROLE app_admin"

# (name, SQL arguments with defaults, argument types for GRANT, handler)
FUNCTIONS = [
    (f"get_{stream}", args, types, f"orchestra_app.udfs.get_{stream}")
    for stream in ("pipeline_runs", "task_runs", "operations")
    for args, types in (
        ("page NUMBER DEFAULT 1, per_page NUMBER DEFAULT 100", "NUMBER, NUMBER"),
        (
            "page NUMBER, per_page NUMBER, time_from TIMESTAMP_TZ, time_to TIMESTAMP_TZ",
            "NUMBER, NUMBER, TIMESTAMP_TZ, TIMESTAMP_TZ",
        ),
    )
]

# (name, SQL arguments, argument types for GRANT, handler): procedures that reach the network.
PROCEDURES = [
    ("load_pipeline_runs", "", "", "orchestra_app.handlers.load_pipeline_runs"),
    ("load_task_runs", "", "", "orchestra_app.handlers.load_task_runs"),
    ("load_operations", "", "", "orchestra_app.handlers.load_operations"),
    ("load_all", "", "", "orchestra_app.handlers.load_all"),
    ("test_connection", "", "", "orchestra_app.handlers.test_connection"),
    ("enable_schedule", "cron VARCHAR DEFAULT '0 * * * *'", "VARCHAR", "orchestra_app.handlers.enable_schedule"),
]


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def eai_name(app: str) -> str:
    """Integrations are account-wide: prefix with the app's name so two installs never collide."""
    return quote_ident(f"{app.upper()}_ORCHESTRA_EAI")


def statements(app: str) -> list[str]:
    eai = eai_name(app)
    bind = f"  EXTERNAL_ACCESS_INTEGRATIONS = ({eai})\n  SECRETS = ('{SECRET_NAME}' = {SECRET})"
    out = [
        f"CREATE NETWORK RULE IF NOT EXISTS {RULE}\n  TYPE = HOST_PORT\n  MODE = EGRESS\n"
        f"  VALUE_LIST = ('{HOST_PORT}')",
        f"ALTER NETWORK RULE {RULE} SET VALUE_LIST = ('{HOST_PORT}')",
        f"CREATE EXTERNAL ACCESS INTEGRATION IF NOT EXISTS {eai}\n  ALLOWED_NETWORK_RULES = ({RULE})\n"
        f"  ALLOWED_AUTHENTICATION_SECRETS = ({SECRET})\n  ENABLED = TRUE",
        f"ALTER EXTERNAL ACCESS INTEGRATION {eai} SET ALLOWED_NETWORK_RULES = ({RULE}) "
        f"ALLOWED_AUTHENTICATION_SECRETS = ({SECRET}) ENABLED = TRUE",
        f"ALTER APPLICATION SET SPECIFICATION {SPEC_NAME}\n  TYPE = EXTERNAL_ACCESS\n  LABEL = '{SPEC_LABEL}'\n"
        f"  DESCRIPTION = '{SPEC_DESCRIPTION}'\n  HOST_PORTS = ('{HOST_PORT}')",
    ]
    for name, args, types, handler in FUNCTIONS:
        out.append(
            f"CREATE OR REPLACE FUNCTION core.{name}({args})\n  RETURNS VARIANT\n  LANGUAGE PYTHON\n"
            f"  RUNTIME_VERSION = '{RUNTIME}'\n  PACKAGES = {PACKAGES}\n  IMPORTS = {IMPORTS}\n"
            f"  HANDLER = '{handler}'\n{bind}"
        )
        out.append(f"GRANT USAGE ON FUNCTION core.{name}({types}) TO {ADMIN}")
    for name, args, types, handler in PROCEDURES:
        out.append(
            f"CREATE OR REPLACE PROCEDURE core.{name}({args})\n  RETURNS VARIANT\n  LANGUAGE PYTHON\n"
            f"  RUNTIME_VERSION = '{RUNTIME}'\n  PACKAGES = {PACKAGES}\n  IMPORTS = {IMPORTS}\n"
            f"  HANDLER = '{handler}'\n{bind}\n  EXECUTE AS OWNER"
        )
        out.append(f"GRANT USAGE ON PROCEDURE core.{name}({types}) TO {ADMIN}")
    return out
